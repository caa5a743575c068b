import { rmSync } from 'node:fs';
import {
  addSignature,
  type Command,
  checkSignatures,
  deviceTopic,
  generateKeyPair,
  newTrustPolicy,
  publicKeyFromRaw,
  rawPublicKey,
  unitTopic,
  withDelegatedKey,
} from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContentPlugin, contentPlugin } from '../../../fleet-server/src/plugins/content.js';
import {
  closed,
  connectDevice,
  type EnrolledDevice,
  enrolDevice,
  loginAs,
  Session,
  startTestServer,
  type TestServer,
  waitFor,
} from '../app/harness.js';

describe('device commands', () => {
  const root = generateKeyPair();
  let s: TestServer;
  let admin: Session;
  let op: Session;
  let dev: EnrolledDevice;
  let c: MqttClient;
  const received: Command[] = [];
  let opKey: { keyid: string; publicKey: string };
  let volumeId = '';
  let content: ContentPlugin;
  const plugins = () => {
    content = contentPlugin({ masterKey: Buffer.alloc(32, 7) });
    return [content];
  };

  beforeAll(async () => {
    s = await startTestServer({
      config: { trustRoots: [rawPublicKey(root.publicKey).toString('base64')] },
      plugins: plugins(),
    });
    admin = await loginAs(s, 'root', 'administrator', ['08']);
    op = await loginAs(s, 'op', 'operator', ['08/02503']);
    dev = await enrolDevice(s, admin, '08/02503');
    const opUser = await s.deps.store.users.byUsername('op');
    opKey = await content.services.signer.generate(opUser?.id as string);
    // the province delegates the operator's key (role command, commune 02503) offline
    const created = new Date(s.deps.clock.now() - 60_000);
    const body = withDelegatedKey(
      newTrustPolicy({ rootKeys: [root.publicKey], created }),
      { publicKey: publicKeyFromRaw(opKey.publicKey), roles: ['command'], scope: ['08/02503'], name: 'op' },
      created,
    );
    await content.services.trust.upload(addSignature(body, root.privateKey), 'test');
    c = await connectDevice(s.mqttUrl, dev.deviceId, dev.password);
    c.on('message', (_t, p) => received.push(JSON.parse(p.toString()) as Command));
    await c.subscribeAsync([deviceTopic(dev.deviceId, 'cmd'), unitTopic('08/02503', 'cmd')]);
  });
  afterAll(async () => {
    c?.end(true);
    if (c) await closed(c);
    await s.close();
    // the server restarted on the same directory, which close() then leaves in place
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('signs a sound-making command with the operator key, delivers it, audits it and collects the result', async () => {
    const r = await op.json<{ command: Command }>('POST', `/api/v1/devices/${dev.deviceId}/commands`, {
      action: 'volume',
      params: { volume: 40 },
    });
    expect(r.status).toBe(202);
    await waitFor(() => received.some((x) => x.id === r.body.command.id));
    const got = received.find((x) => x.id === r.body.command.id) as Command;
    volumeId = got.id;
    expect(got).toMatchObject({
      action: 'volume',
      params: { volume: 40 },
      target: { device: dev.deviceId, unit: '08/02503' },
      by: 'op',
    });
    const check = checkSignatures(got, (id) =>
      id === opKey.keyid ? publicKeyFromRaw(opKey.publicKey) : undefined,
    );
    expect(check.valid).toEqual([opKey.keyid]);
    const audit = await s.deps.store.audit.query({ action: 'command.send' });
    expect(audit[0]).toMatchObject({
      actor: { name: 'op' },
      details: { commandId: got.id, action: 'volume' },
    });
    await c.publishAsync(
      deviceTopic(dev.deviceId, 'cmd-result'),
      JSON.stringify({ id: got.id, ok: true, at: new Date().toISOString() }),
      { qos: 1 },
    );
    await waitFor(
      async () =>
        (await op.json<{ results: unknown[] }>('GET', `/api/v1/commands/${got.id}`)).body.results.length ===
        1,
    );
  });

  it('refuses commands outside the user scope, outside the key delegation, and from roles without device.command', async () => {
    const other = await enrolDevice(s, admin, '08/02506');
    expect(
      (await op.json('POST', `/api/v1/devices/${other.deviceId}/commands`, { action: 'stop' })).status,
    ).toBe(404);
    // an operator scoped to the province whose key is delegated for 02503 only
    const wide = await loginAs(s, 'op-wide', 'operator', ['08']);
    const u = await s.deps.store.users.byUsername('op-wide');
    const key = await content.services.signer.generate(u?.id as string);
    expect(key).toBeDefined();
    const noRole = await wide.json<{ error: { code: string } }>('POST', '/api/v1/units/08/02506/commands', {
      action: 'test-tone',
      params: { seconds: 3 },
    });
    expect(noRole.status).toBe(422);
    expect(noRole.body.error.code).toBe('ROLE_NOT_AUTHORISED');
    const viewer = await loginAs(s, 'viewer', 'viewer', ['08']);
    expect(
      (await viewer.json('POST', `/api/v1/devices/${dev.deviceId}/commands`, { action: 'stop' })).status,
    ).toBe(403);
    const bad = await op.json('POST', `/api/v1/devices/${dev.deviceId}/commands`, { action: 'play-now' });
    expect(bad.status).toBe(400);
  });

  it('sends unsigned sync to a unit without needing a key', async () => {
    const r = await admin.json<{ command: Command }>('POST', '/api/v1/units/08/02503/commands', {
      action: 'sync',
    });
    expect(r.status).toBe(202);
    expect(r.body.command.signatures).toEqual([]);
    await waitFor(() => received.some((x) => x.id === r.body.command.id));
  });

  it('after a restart, a command and its results come back from the audit log; a late result is still recorded', async () => {
    c.end(true);
    await closed(c);
    const dir = s.dir;
    await s.stop();
    s = await startTestServer({
      dir,
      seed: false,
      config: { trustRoots: [rawPublicKey(root.publicKey).toString('base64')] },
      plugins: plugins(),
    });
    op = new Session(s.url);
    expect((await op.login('op')).ok).toBe(true);
    const r = await op.json<{ command: Command; results: { deviceId: string; ok: boolean }[] }>(
      'GET',
      `/api/v1/commands/${volumeId}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.command).toMatchObject({ id: volumeId, action: 'volume', by: 'op' });
    expect(r.body.results).toEqual([expect.objectContaining({ deviceId: dev.deviceId, ok: true })]);
    // the station answers again (a retry after its own restart): the latest answer counts
    c = await connectDevice(s.mqttUrl, dev.deviceId, dev.password);
    await c.publishAsync(
      deviceTopic(dev.deviceId, 'cmd-result'),
      JSON.stringify({ id: volumeId, ok: false, code: 'AMP_FAULT', at: new Date().toISOString() }),
      { qos: 1 },
    );
    await waitFor(async () => {
      const v = await op.json<{ results: { ok: boolean; code?: string }[] }>(
        'GET',
        `/api/v1/commands/${volumeId}`,
      );
      return v.body.results[0]?.code === 'AMP_FAULT';
    });
    const unknown = await op.json<{ error: { code: string } }>(
      'GET',
      '/api/v1/commands/00000000-0000-4000-8000-000000000000',
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('COMMAND_NOT_FOUND');
  });
});
