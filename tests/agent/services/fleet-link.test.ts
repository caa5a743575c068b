import { type KeyObject, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  addSignature,
  type Command,
  type CommandResult,
  deviceTopic,
  generateKeyPair,
  type Health,
  type Notify,
  PROOF_MESSAGE_MAX_BYTES,
  type Presence,
  type Proof,
  type ProofUplink,
  proofsOf,
  unitTopic,
} from '@loa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../../agent/src/services/fleet/commands.js';
import { FleetLink } from '../../../agent/src/services/fleet/fleet-link.js';
import { ProofJournal } from '../../../agent/src/services/playback/proof-journal.js';
import { makeTrust } from './bundle-fixtures.js';
import { assertChain, cleanupTempDirs, silent, tempDir } from './helpers.js';
import { type BrokerFixture, observer, startBroker } from './mqtt-fixtures.js';

const fx = makeTrust();
const deviceKey = generateKeyPair();
const clock = { now: () => Date.now() };
let broker: BrokerFixture | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await broker?.close();
  broker = undefined;
  await cleanupTempDirs();
});

const health = async (): Promise<Health> => ({
  at: new Date().toISOString(),
  seq: 1,
  agentVersion: '0.1.0',
  uptimeS: 1,
  inputs: { mains: true, door: 'closed', ampFault: false },
  relays: { amplifier: false },
  onAir: null,
  bundles: [],
  clock: { trusted: true, source: 'ntp' },
});

async function setup(opts: { boot?: number } = {}) {
  broker ??= await startBroker();
  const dir = await tempDir();
  const journal = new ProofJournal({
    dir: join(dir, 'journal'),
    privateKey: deviceKey.privateKey,
    deviceId: () => 'dev-1',
    clock,
    logger: silent,
  });
  await journal.start();
  const executed: string[] = [];
  const record = async (what: string) => {
    executed.push(what);
  };
  const commands = new CommandHandler({
    file: join(dir, 'seen.json'),
    trust: () => fx.trust,
    device: () => ({ deviceId: 'dev-1', unit: '08/02500' }),
    clock,
    logger: silent,
    executors: {
      playNow: (p) => record(`play-now:${p.itemId}`),
      stop: () => record('stop'),
      volume: (v) => record(`volume:${v}`),
      testTone: () => record('test-tone'),
      relayTest: () => record('relay-test'),
      sync: () => record('sync'),
      reboot: () => record('reboot'),
      screenshot: () => record('screenshot'),
    },
  });
  await commands.start();
  const notifies: Notify[] = [];
  const link = new FleetLink({
    mqttUrl: broker.url,
    deviceId: 'dev-1',
    unit: '08/02500',
    boot: opts.boot ?? 3,
    agentVersion: '0.1.0',
    journal,
    health,
    healthIntervalMs: 200,
    inbox: {
      notify: (n) => notifies.push(n),
      emergency: () => undefined,
      command: (raw) => commands.handle(raw),
      serverTime: () => undefined,
    },
    clock,
    logger: silent,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    resendAfterMs: 500,
  });
  cleanups.push(async () => {
    await link.stop();
    await journal.stop();
  });
  return { journal, link, executed, notifies, commands };
}

/** The proofs an observed d/{id}/proof message carries (one, or a batch). */
const proofsIn = (m: { json: unknown }): Proof[] => proofsOf(m.json as ProofUplink);
const carries = (seq: number) => (m: { topic: string; json: unknown }) =>
  m.topic.endsWith('/proof') && proofsIn(m).some((p) => p.seq === seq);

const draft = { outcome: 'completed' as const, itemId: 'x', relays: { amplifier: true }, clockTrusted: true };

function command(
  action: Command['action'],
  extra: Partial<Command> = {},
  signer: KeyObject | null = fx.command.privateKey,
): Command {
  const body: Command = {
    type: 'loa-command',
    format: 1,
    id: randomUUID(),
    action,
    issued: new Date(Date.now() - 1000).toISOString(),
    expires: new Date(Date.now() + 60_000).toISOString(),
    target: { device: 'dev-1', unit: '08/02500' },
    signatures: [],
    ...extra,
  };
  return signer ? addSignature(body, signer) : body;
}

describe('FleetLink with a real aedes broker', () => {
  it('announces presence, sends health and proofs, and trims the backlog on ack', async () => {
    const { journal, link } = await setup();
    for (let i = 0; i < 3; i++) await journal.record(draft);
    const obs = await observer((broker as BrokerFixture).url, ['loa/v1/d/dev-1/#']);
    link.start();
    const online = await obs.waitFor<Presence>(
      (m) => m.topic.endsWith('/presence') && m.json.state === 'online',
    );
    expect(online.json).toMatchObject({ boot: 3, conn: 1, agentVersion: '0.1.0' });
    await obs.waitFor((m) => m.topic.endsWith('/health'));
    // the backlog of three goes in one batch message
    const backlog = await obs.waitFor(carries(3));
    expect(proofsIn(backlog).map((p) => p.seq)).toEqual([1, 2, 3]);
    // A proof recorded while connected goes out at once (alone: the single-proof form).
    await journal.record(draft);
    const alone = await obs.waitFor<Proof>(carries(4));
    expect(alone.json).toMatchObject({ type: 'loa-proof', seq: 4 });
    const proofs = obs.messages.filter((m) => m.topic.endsWith('/proof')).flatMap(proofsIn);
    assertChain(proofs.slice(0, 4), deviceKey.publicKey);
    await obs.client.publishAsync(
      deviceTopic('dev-1', 'ack'),
      JSON.stringify({ upToSeq: 4, serverTime: new Date().toISOString() }),
      { qos: 1 },
    );
    await expect.poll(() => journal.ackedSeq, { timeout: 10_000 }).toBe(4);
    expect(journal.backlog).toBe(0);
    await obs.client.endAsync();
  });

  it('leaves a last will on a dropped link, reconnects with a newer conn and re-sends unacked proofs', async () => {
    const { journal, link } = await setup();
    const obs = await observer((broker as BrokerFixture).url, [
      'loa/v1/d/dev-1/presence',
      'loa/v1/d/dev-1/proof',
    ]);
    link.start();
    await obs.waitFor<Presence>((m) => m.json.state === 'online' && m.json.conn === 1);
    await journal.record(draft);
    await obs.waitFor(carries(1));
    // Drop only the device's connection (not the observer's).
    const b = broker as BrokerFixture;
    const before = obs.messages.length;
    for (const s of b.sockets)
      if (s.remotePort !== (obs.client.stream as unknown as { localPort: number }).localPort) s.destroy();
    const will = await obs.waitFor<Presence>((m) => m.json.state === 'offline');
    expect(will.json).toMatchObject({ boot: 3, conn: 1 });
    await obs.waitFor<Presence>((m) => m.json.state === 'online' && m.json.conn === 2);
    // Not acknowledged, so proof 1 comes again (duplicates are safe).
    const again = await obs.waitFor((m) => carries(1)(m) && obs.messages.indexOf(m as never) >= before);
    expect(proofsIn(again)[0]?.seq).toBe(1);
    await obs.client.endAsync();
  });

  it('stops within seconds when the broker never acknowledges the goodbye (a link that died unnoticed)', async () => {
    const { link } = await setup();
    const b = broker as BrokerFixture;
    const obs = await observer(b.url, ['loa/v1/d/dev-1/presence']);
    link.start();
    await obs.waitFor<Presence>((m) => m.json.state === 'online');
    // From now on the broker swallows every publish: no PUBACK ever comes back.
    b.broker.authorizePublish = () => undefined;
    const t0 = performance.now();
    await link.stop();
    const took = performance.now() - t0;
    // Two bounded steps (goodbye, disconnect) of 2 s each, with room for a loaded machine.
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(15_000);
    expect(link.connected).toBe(false);
  });

  it('runs signed commands once, refuses unsigned, replayed, expired and foreign ones', async () => {
    const { link, executed } = await setup();
    const obs = await observer((broker as BrokerFixture).url, ['loa/v1/d/dev-1/#']);
    link.start();
    await obs.waitFor<Presence>((m) => m.topic.endsWith('/presence') && m.json.state === 'online');
    const send = async (c: unknown, topic = deviceTopic('dev-1', 'cmd')) => {
      const before = obs.messages.length;
      await obs.client.publishAsync(topic, JSON.stringify(c), { qos: 1 });
      const id = (c as { id: string }).id;
      const fresh = (m: unknown) => obs.messages.indexOf(m as never) >= before;
      return (
        await obs.waitFor<CommandResult>(
          (m) => m.topic.endsWith('/cmd-result') && m.json.id === id && fresh(m),
        )
      ).json;
    };
    const vol = command('volume', { params: { volume: 40 } });
    expect(await send(vol)).toMatchObject({ ok: true });
    expect(await send({ ...vol })).toMatchObject({ ok: false, code: 'COMMAND_REPLAYED' });
    const unsigned = command('play-now', { params: { itemId: 'a' } }, null);
    expect(await send(unsigned)).toMatchObject({ ok: false, code: 'UNSIGNED' });
    const expired = command('test-tone', { expires: new Date(Date.now() - 1000).toISOString() });
    expect(await send(expired)).toMatchObject({ ok: false, code: 'EXPIRED' });
    const outsider = command('test-tone', {}, fx.outsider.privateKey);
    expect(await send(outsider)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
    const wrongRole = command('stop', {}, fx.content.privateKey);
    expect(await send(wrongRole)).toMatchObject({ ok: false, code: 'ROLE_NOT_AUTHORISED' });
    const other = command('stop', { target: { device: 'dev-2', unit: '08/02500' } });
    expect(await send(other)).toMatchObject({ ok: false, code: 'TARGET_MISMATCH' });
    const tampered = { ...command('volume', { params: { volume: 10 } }), params: { volume: 100 } };
    expect(await send(tampered)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    // sync makes no sound: no signature needed. A unit broadcast reaches the device too.
    const sync = command('sync', { target: { unit: '08' } }, null);
    expect(await send(sync, unitTopic('08', 'cmd'))).toMatchObject({ ok: true });
    expect(executed).toEqual(['volume:40', 'sync']);
    await obs.client.endAsync();
  });

  it('remembers executed command ids across restarts', async () => {
    const dir = await tempDir();
    const make = () =>
      new CommandHandler({
        file: join(dir, 'seen.json'),
        trust: () => fx.trust,
        device: () => ({ deviceId: 'dev-1', unit: '08/02500' }),
        clock,
        logger: silent,
        executors: {
          playNow: async () => undefined,
          stop: async () => undefined,
          volume: async () => undefined,
          testTone: async () => undefined,
          relayTest: async () => undefined,
          sync: async () => undefined,
          reboot: async () => undefined,
          screenshot: async () => undefined,
        },
      });
    const a = make();
    await a.start();
    const c = command('stop');
    expect(await a.handle(c)).toMatchObject({ ok: true });
    const b = make();
    await b.start();
    expect(await b.handle(c)).toMatchObject({ ok: false, code: 'COMMAND_REPLAYED' });
    expect(await b.handle({ nonsense: true })).toBeUndefined();
    expect(await b.handle({ id: randomUUID(), action: 'fly' })).toMatchObject({ code: 'COMMAND_MALFORMED' });
  });

  it('hands notify messages on unit topics to the bundle store', async () => {
    const { link, notifies } = await setup();
    const obs = await observer((broker as BrokerFixture).url, ['loa/v1/d/dev-1/presence']);
    link.start();
    await obs.waitFor<Presence>((m) => m.json.state === 'online');
    const n: Notify = {
      bundleId: 'b1',
      channel: 'main',
      version: 2,
      manifestUrl: 'http://x/m.json',
      blobBase: 'http://x/blobs',
      serverTime: new Date().toISOString(),
    };
    await obs.client.publishAsync(unitTopic('08/02500', 'notify'), JSON.stringify(n), { qos: 1 });
    await obs.client.publishAsync(unitTopic('08/02500', 'notify'), 'not json', { qos: 1 });
    await expect.poll(() => notifies.length, { timeout: 10_000 }).toBe(1);
    expect(notifies[0]).toEqual(n);
    await obs.client.endAsync();
  });
});

describe('FleetLink without a broker for a while', () => {
  it('keeps proofs on disk while the broker is away and delivers them when it appears', async () => {
    // Reserve a port, leave it closed: the link retries against nothing.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dir = await tempDir();
    const journal = new ProofJournal({
      dir: join(dir, 'journal'),
      privateKey: deviceKey.privateKey,
      deviceId: () => 'dev-off',
      clock,
      logger: silent,
    });
    await journal.start();
    const link = new FleetLink({
      mqttUrl: `mqtt://127.0.0.1:${port}`,
      deviceId: 'dev-off',
      unit: '08/02500',
      boot: 1,
      agentVersion: '0.1.0',
      journal,
      health,
      healthIntervalMs: 200,
      inbox: {
        notify: () => undefined,
        emergency: () => undefined,
        command: async () => undefined,
        serverTime: () => undefined,
      },
      clock,
      logger: silent,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
    });
    cleanups.push(async () => {
      await link.stop();
      await journal.stop();
    });
    link.start();
    for (let i = 0; i < 120; i++) await journal.record(draft);
    expect(link.connected).toBe(false);
    expect(journal.backlog).toBe(120);
    // The broker comes up on that port.
    const { Aedes } = await import('aedes');
    const b = await Aedes.createBroker();
    const srv = createServer((s) => b.handle(s));
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    cleanups.push(async () => {
      await link.stop(); // its connection would keep the server open
      await new Promise<void>((r) => srv.close(() => r()));
      await new Promise<void>((r) => b.close(() => r()));
    });
    const obs = await observer(`mqtt://127.0.0.1:${port}`, ['loa/v1/d/dev-off/proof']);
    const got = await obs.waitFor(carries(120), 30_000);
    expect(proofsIn(got).every((p) => p.deviceId === 'dev-off')).toBe(true);
    const seqs = new Set(obs.messages.flatMap(proofsIn).map((p) => p.seq));
    for (let s = 1; s <= 120; s++) expect(seqs.has(s)).toBe(true);
    // the backlog travelled packed: a few messages, each under the size cap
    expect(obs.messages.length).toBeLessThan(20);
    for (const m of obs.messages)
      expect(Buffer.byteLength(JSON.stringify(m.json))).toBeLessThanOrEqual(PROOF_MESSAGE_MAX_BYTES);
    await obs.client.endAsync();
  }, 60_000);

  it('retries at once when told the network is back, not after its grown backoff', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dir = await tempDir();
    const journal = new ProofJournal({
      dir: join(dir, 'journal'),
      privateKey: deviceKey.privateKey,
      deviceId: () => 'dev-back',
      clock,
      logger: silent,
    });
    await journal.start();
    const logged: string[] = [];
    const link = new FleetLink({
      mqttUrl: `mqtt://127.0.0.1:${port}`,
      deviceId: 'dev-back',
      unit: '08/02500',
      boot: 1,
      agentVersion: '0.1.0',
      journal,
      health,
      healthIntervalMs: 200,
      inbox: {
        notify: () => undefined,
        emergency: () => undefined,
        command: async () => undefined,
        serverTime: () => undefined,
      },
      clock,
      logger: pino({ level: 'warn' }, { write: (l: string) => void logged.push(l) }),
      // hours offline: the next try is an hour away
      reconnectMinMs: 3_600_000,
      reconnectMaxMs: 3_600_000,
    });
    cleanups.push(async () => {
      await link.stop();
      await journal.stop();
    });
    link.start();
    await journal.record(draft);
    // the first try is refused (nothing listens yet); the next is an hour away
    await expect.poll(() => logged.some((l) => l.includes('mqtt error')), { timeout: 30_000 }).toBe(true);
    const { Aedes } = await import('aedes');
    const b = await Aedes.createBroker();
    const srv = createServer((s) => b.handle(s));
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    cleanups.push(async () => {
      await link.stop();
      await new Promise<void>((r) => srv.close(() => r()));
      await new Promise<void>((r) => b.close(() => r()));
    });
    const obs = await observer(`mqtt://127.0.0.1:${port}`, ['loa/v1/d/dev-back/proof']);
    expect(link.connected).toBe(false);
    link.retryNow('modem registered');
    await obs.waitFor(carries(1), 30_000);
    expect(link.connected).toBe(true);
    await obs.client.endAsync();
  }, 60_000);
});
