/**
 * Emergency: text → espeak-ng Vietnamese speech → Opus → signed emergency bundle published inline
 * on the unit's emergency topic; stations verify it; live per-device tracking as JSON and SSE.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  addSignature,
  deviceSubscriptions,
  deviceTopic,
  EMERGENCY_INLINE_MAX_BYTES,
  type Emergency,
  GENESIS_PREV,
  type ProofBody,
  type TrustPolicy,
  unitTopic,
  verifyManifest,
} from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentRecord } from '../../../fleet-server/src/domain/model.js';
import type { EmergencyView } from '../../../fleet-server/src/services/emergency-service.js';
import {
  eventually,
  type Harness,
  makeSine,
  nextMessage,
  run,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

/** Reads server-sent events until `stop` returns true for the collected list. */
async function readSse(
  res: Response,
  stop: (events: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = '';
  const events: { event: string; data: unknown }[] = [];
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = /^event: ?(.*)$/m.exec(block)?.[1];
      const data = /^data: ?(.*)$/m.exec(block)?.[1];
      if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      i = buf.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return events;
}

describe('emergency broadcast', () => {
  let h: Harness;
  let operator: TestUser;
  let unkeyed: TestUser;
  let d1: TestDevice;
  let d2: TestDevice;
  let trust: TrustPolicy;
  let view: EmergencyView;
  let msg1: Emergency;

  beforeAll(async () => {
    h = await startHarness();
    operator = await h.user('vanhanh.khancap', 'operator', ['08/02500']);
    unkeyed = await h.user('vanhanh.chuaquyen', 'operator', ['08']);
    const k = await h.api<{ publicKey: string }>(operator, 'POST', '/api/v1/signing-keys/me');
    await h.api(unkeyed, 'POST', '/api/v1/signing-keys/me');
    trust = await h.installTrust([{ pub: k.body.publicKey, roles: ['emergency'], scope: ['08/02500'] }]);
    d1 = await h.device('st-02500-21', '08/02500');
    d2 = await h.device('st-02500-22', '08/02500');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("refuses a unit outside the operator's scope and a key without the emergency role; nothing is sent", async () => {
    const before = await h.server.deps.store.bundles.count();
    const out = await h.api<{ error: { code: string } }>(operator, 'POST', '/api/v1/emergency', {
      unit: '08/02600',
      title: 'Cảnh báo',
      text: 'Thử',
    });
    expect(out.status).toBe(403);
    expect(out.body.error.code).toBe('FORBIDDEN_SCOPE');
    const nokey = await h.api<{ error: { code: string } }>(unkeyed, 'POST', '/api/v1/emergency', {
      unit: '08/02500',
      title: 'Cảnh báo',
      text: 'Thử',
    });
    expect(nokey.status).toBe(422);
    expect(nokey.body.error.code).toBe('ROLE_NOT_AUTHORISED');
    const empty = await h.api(operator, 'POST', '/api/v1/emergency', { unit: '08/02500', title: 'Trống' });
    expect(empty.status).toBe(400);
    expect(await h.server.deps.store.bundles.count()).toBe(before);
  });

  it('speaks the text, signs and publishes it on the unit emergency topic; stations verify it', async () => {
    const c1 = await h.connect(d1, deviceSubscriptions(d1.id, d1.unit));
    const c2 = await h.connect(d2, deviceSubscriptions(d2.id, d2.unit));
    const topic = unitTopic('08/02500', 'emergency');
    const m1 = nextMessage<Emergency>(c1, topic);
    const m2 = nextMessage<Emergency>(c2, topic);
    const r = await h.api<EmergencyView>(operator, 'POST', '/api/v1/emergency', {
      unit: '08/02500',
      title: 'Cảnh báo lũ quét',
      text: 'Thông báo khẩn cấp: nước sông Lô đang dâng cao, bà con khẩn trương di chuyển lên vùng cao.',
      repeat: 2,
      gapSeconds: 10,
    });
    expect(r.status).toBe(201);
    view = r.body;
    expect(view.summary).toMatchObject({ total: 2, sent: 2 });
    msg1 = await m1;
    expect((await m2).manifest.id).toBe(msg1.manifest.id);
    const v = verifyManifest(msg1.manifest, {
      trust,
      now: new Date(h.now()),
      device: { unit: d1.unit, deviceId: d1.id },
    });
    expect(v.manifest.items[0]).toMatchObject({ kind: 'audio', priority: 'emergency', lang: 'vi' });
    expect(v.manifest.schedule?.[0]).toMatchObject({
      rule: { type: 'immediate' },
      repeat: { count: 2, gapSeconds: 10 },
    });
    expect(v.manifest.items.find((i) => i.kind === 'text')?.text).toContain('sông Lô');
    // the short spoken alert travels in the message itself: the signed manifest's blob, whole
    const blob = v.manifest.items[0]?.blob as { sha256: string; size: number };
    expect(blob.size).toBeLessThanOrEqual(EMERGENCY_INLINE_MAX_BYTES);
    expect(msg1.inline?.map((b) => b.sha256)).toEqual([blob.sha256]);
    const carried = Buffer.from(msg1.inline?.[0]?.data ?? '', 'base64');
    expect(carried.length).toBe(blob.size);
    expect(createHash('sha256').update(carried).digest('hex')).toBe(blob.sha256);
  });

  it('the spoken audio is real speech in the station format, normalised', async () => {
    const blob = msg1.manifest.items[0]?.blob as { sha256: string; size: number };
    const res = await fetch(`${msg1.blobBase}/${blob.sha256}`, { headers: { authorization: d1.basic } });
    expect(res.status).toBe(200);
    const file = join(h.dir, 'speech.ogg');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stderr } = await run('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-i',
      file,
      '-af',
      'ebur128',
      '-f',
      'null',
      '-',
    ]);
    const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')))?.[1]);
    expect(Math.abs(lufs + 16)).toBeLessThan(2);
    const dur = Number(
      /Duration: (\d+):(\d+):([\d.]+)/
        .exec(stderr)
        ?.slice(1)
        .reduce((a, x) => a * 60 + Number(x), 0),
    );
    expect(dur).toBeGreaterThan(2);
  });

  it('tracks each device live (JSON and server-sent events): received, playing, completed, failed', async () => {
    const sse = await fetch(`${h.server.url}/api/v1/emergency/${view.bundle.id}/events`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const events = readSse(sse, (ev) => ev.filter((e) => e.event === 'device').length >= 3);
    const c1 = await h.connect(d1, []);
    const c2 = await h.connect(d2, []);
    const status = (state: string, reason?: string) =>
      JSON.stringify({
        bundleId: view.bundle.id,
        channel: 'emergency',
        version: view.bundle.version,
        state,
        ...(reason ? { reason } : {}),
        at: new Date().toISOString(),
      });
    await c1.publishAsync(deviceTopic(d1.id, 'status'), status('active'), { qos: 1 });
    const at = new Date().toISOString();
    const proof: ProofBody = {
      type: 'loa-proof',
      format: 1,
      eventId: randomUUID(),
      deviceId: d1.id,
      seq: 1,
      prev: GENESIS_PREV,
      bundleId: view.bundle.id,
      channel: 'emergency',
      bundleVersion: view.bundle.version,
      itemId: 'alert-audio',
      priority: 'emergency',
      outcome: 'started',
      startedAt: at,
      relays: { amplifier: true },
      clockTrusted: true,
      at,
    };
    await c1.publishAsync(
      deviceTopic(d1.id, 'proof'),
      JSON.stringify(addSignature(proof, d1.keys.privateKey)),
      { qos: 1 },
    );
    await c2.publishAsync(deviceTopic(d2.id, 'status'), status('failed', 'BLOB_HASH_MISMATCH'), { qos: 1 });
    const got = await events;
    expect(got[0]?.event).toBe('snapshot');
    const last = got.filter((e) => e.event === 'device').at(-1)?.data as { summary: Record<string, number> };
    expect(last.summary).toMatchObject({ total: 2, playing: 1, failed: 1 });
    const json = await h.api<EmergencyView>(operator, 'GET', `/api/v1/emergency/${view.bundle.id}`);
    const byId = new Map(json.body.devices.map((d) => [d.deviceId, d] as const));
    expect(byId.get(d1.id)).toMatchObject({ stage: 'playing', plays: 1 });
    expect(byId.get(d1.id)?.receivedAt).toBeTruthy();
    expect(byId.get(d2.id)).toMatchObject({ stage: 'failed', failedReason: 'BLOB_HASH_MISMATCH' });
  });

  it('after a server restart, rebuilds the tracking from the stored proofs and keeps following it', async () => {
    await h.restart();
    const json = await h.api<EmergencyView>(operator, 'GET', `/api/v1/emergency/${view.bundle.id}`);
    expect(json.status).toBe(200);
    const byId = new Map(json.body.devices.map((d) => [d.deviceId, d] as const));
    // the proof was stored: playing, once; d2's failure was a status report, which is not stored
    expect(byId.get(d1.id)).toMatchObject({ stage: 'playing', plays: 1 });
    expect(byId.get(d2.id)).toMatchObject({ stage: 'sent', plays: 0 });
    // a proof after the restart advances the rebuilt tracking
    const c1 = await h.connect(d1, []);
    const first = h.server.deps.store.proofs.last(d1.id);
    if (!first) throw new Error('the earlier test stored a proof of d1');
    const at = new Date().toISOString();
    const done: ProofBody = {
      type: 'loa-proof',
      format: 1,
      eventId: randomUUID(),
      deviceId: d1.id,
      seq: first.seq + 1,
      prev: first.hash,
      bundleId: view.bundle.id,
      channel: 'emergency',
      bundleVersion: view.bundle.version,
      itemId: 'alert-audio',
      priority: 'emergency',
      outcome: 'completed',
      startedAt: at,
      endedAt: at,
      relays: { amplifier: true },
      clockTrusted: true,
      at,
    };
    await c1.publishAsync(
      deviceTopic(d1.id, 'proof'),
      JSON.stringify(addSignature(done, d1.keys.privateKey)),
      {
        qos: 1,
      },
    );
    const after = await eventually(async () => {
      const r = await h.api<EmergencyView>(operator, 'GET', `/api/v1/emergency/${view.bundle.id}`);
      const d = r.body.devices.find((x) => x.deviceId === d1.id);
      return d?.stage === 'completed' ? r.body : undefined;
    });
    expect(after.summary).toMatchObject({ total: 2, completed: 1 });
  });

  it('can broadcast uploaded audio instead of synthesised speech', async () => {
    const wav = join(h.dir, 'coi.wav');
    await makeSine(wav, 2, 880, 0.3);
    const up = await h.api<ContentRecord>(
      operator,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title: 'Còi báo động' })}`,
      await readFile(wav),
      { 'content-type': 'application/octet-stream' },
    );
    // an operator has no content.write: the audio comes from an editor
    expect(up.status).toBe(403);
    const editor = await h.user('bientap.khancap', 'editor', ['08/02500']);
    const ok = await h.api<ContentRecord>(
      editor,
      'POST',
      `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title: 'Còi báo động' })}`,
      await readFile(wav),
      { 'content-type': 'application/octet-stream' },
    );
    expect(ok.status).toBe(201);
    const r = await h.api<EmergencyView>(operator, 'POST', '/api/v1/emergency', {
      unit: '08/02500',
      title: 'Còi báo động',
      content: ok.body.id,
      repeat: 1,
    });
    expect(r.status).toBe(201);
    expect(r.body.bundle.manifest.items.map((i) => i.blob?.sha256)).toEqual([ok.body.sha256]);
    expect(r.body.bundle.version).toBe(view.bundle.version + 1);
  });

  it('carries audio up to the inline cap in the message; longer audio keeps the download path', async () => {
    const editor = await h.user('bientap.dai', 'editor', ['08/02500']);
    const c1 = await h.connect(d1, deviceSubscriptions(d1.id, d1.unit));
    const topic = unitTopic('08/02500', 'emergency');
    const send = async (file: string, title: string) => {
      const up = await h.api<ContentRecord>(
        editor,
        'POST',
        `/api/v1/content/upload?${new URLSearchParams({ unit: '08/02500', title })}`,
        await readFile(file),
        { 'content-type': 'application/octet-stream' },
      );
      expect(up.status).toBe(201);
      const got = nextMessage<Emergency>(c1, topic);
      const r = await h.api<EmergencyView>(operator, 'POST', '/api/v1/emergency', {
        unit: '08/02500',
        title,
        content: up.body.id,
        repeat: 1,
      });
      expect(r.status).toBe(201);
      return { content: up.body, msg: await got };
    };
    // a two-second siren: inline
    const short = join(h.dir, 'coi-ngan.wav');
    await makeSine(short, 2, 660, 0.3);
    const a = await send(short, 'Còi ngắn');
    expect(a.content.size).toBeLessThanOrEqual(EMERGENCY_INLINE_MAX_BYTES);
    expect(a.msg.inline?.map((b) => b.sha256)).toEqual([a.content.sha256]);
    // forty seconds of noise at the station bitrate: far over the cap, so stations download it
    const long = join(h.dir, 'dai.wav');
    await run('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'anoisesrc=d=40:c=pink:a=0.3',
      '-ac',
      '1',
      long,
    ]);
    const b = await send(long, 'Bản tin dài');
    expect(b.content.size).toBeGreaterThan(EMERGENCY_INLINE_MAX_BYTES);
    expect(b.msg.inline).toBeUndefined();
    expect(b.msg.manifest.items[0]?.blob?.sha256).toBe(b.content.sha256);
    const res = await fetch(`${b.msg.blobBase}/${b.content.sha256}`, {
      headers: { authorization: d1.basic },
    });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(b.content.size);
    c1.end(true);
  }, 120_000);
});
