/**
 * Proof ingest with a real broker and real mqtt.js device clients: signature and chain checks,
 * durable store before ack, duplicates (replays) dropped and re-acked, forgeries and forks refused
 * with nothing written, gaps counted, a proof for another device dropped, and the HTTP fallback.
 */
import { randomUUID } from 'node:crypto';
import {
  type Ack,
  addSignature,
  deviceTopic,
  GENESIS_PREV,
  generateKeyPair,
  type KeyPair,
  type Proof,
  type ProofBody,
  proofHash,
} from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestEvent } from '../../../fleet-server/src/services/ingest-service.js';
import {
  eventually,
  type Harness,
  nextMessage,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

function makeProof(
  deviceId: string,
  key: KeyPair,
  seq: number,
  prev: string,
  extra: Partial<ProofBody> = {},
): Proof {
  const at = new Date().toISOString();
  const body: ProofBody = {
    type: 'loa-proof',
    format: 1,
    eventId: randomUUID(),
    deviceId,
    seq,
    prev,
    bundleId: 'xa-02500-v1',
    itemId: 'ban-tin-sang',
    outcome: 'completed',
    startedAt: at,
    endedAt: at,
    loudnessLufs: -16.2,
    relays: { amplifier: true },
    clockTrusted: true,
    at,
    ...extra,
  };
  return addSignature(body, key.privateKey) as Proof;
}

function nextEvent(h: Harness, pred: (e: IngestEvent) => boolean): Promise<IngestEvent> {
  return new Promise((resolve) => {
    const off = h.svc.ingest.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('proof ingest', () => {
  let h: Harness;
  let dev: TestDevice;
  let other: TestDevice;
  let viewer: TestUser;
  let client: MqttClient;
  const chain: Proof[] = [];

  beforeAll(async () => {
    h = await startHarness();
    dev = await h.device('st-02500-07', '08/02500');
    other = await h.device('st-02500-08', '08/02500');
    viewer = await h.user('xem.xa', 'viewer', ['08/02500']);
    client = await h.connect(dev, [deviceTopic(dev.id, 'ack')]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const send = (p: Proof, c = client, id = dev.id) =>
    c.publishAsync(deviceTopic(id, 'proof'), JSON.stringify(p), { qos: 1 });
  const stored = async (id = dev.id) => h.server.deps.store.proofs.query({ deviceId: id, limit: 1000 });

  it('stores each proof durably before acking it, in order', async () => {
    let prev = GENESIS_PREV;
    for (let seq = 1; seq <= 3; seq++) {
      const p = makeProof(dev.id, dev.keys, seq, prev);
      chain.push(p);
      prev = proofHash(p);
      const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === seq);
      await send(p);
      const a = await ack;
      // the ack is only sent once the proof is in the durable stream
      expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBeGreaterThanOrEqual(a.upToSeq);
    }
    const rows = await stored();
    expect(rows.map((r) => r.proof.seq).sort()).toEqual([1, 2, 3]);
    expect(rows.find((r) => r.proof.seq === 3)?.hash).toBe(proofHash(chain[2] as Proof));
  });

  it('drops a replayed proof (same seq) but acks again so the device stops re-sending', async () => {
    const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === 3);
    await send(chain[1] as Proof);
    expect((await ack).upToSeq).toBe(3);
    expect(await stored()).toHaveLength(3);
    expect(h.server.deps.metrics.get('loa_proofs_duplicate_total')).toBe(1);
  });

  it('refuses a forged proof (signed by another key): no ack, nothing written, alert opened', async () => {
    const rogue = generateKeyPair();
    const forged = makeProof(dev.id, rogue, 4, proofHash(chain[2] as Proof));
    const rejected = nextEvent(h, (e) => e.type === 'proof-rejected');
    await send(forged);
    const e = await rejected;
    expect(e).toMatchObject({ type: 'proof-rejected', code: 'PROOF_SIGNATURE_INVALID', seq: 4 });
    expect(await stored()).toHaveLength(3);
    const alert = await eventually(() => h.svc.alerts.active(dev.id).find((a) => a.rule === 'proof-chain'));
    expect(alert.state).toBe('open');
  });

  it('refuses a proof that does not chain to the previous one (a fork)', async () => {
    const fork = makeProof(dev.id, dev.keys, 4, 'f'.repeat(64));
    const rejected = nextEvent(h, (e) => e.type === 'proof-rejected');
    await send(fork);
    expect(await rejected).toMatchObject({ code: 'PROOF_CHAIN_BROKEN' });
    expect(await stored()).toHaveLength(3);
  });

  it('accepts a proof after a gap and counts the missing seqs', async () => {
    const p6 = makeProof(dev.id, dev.keys, 6, 'a'.repeat(64));
    const accepted = nextEvent(h, (e) => e.type === 'proof' && e.proof.seq === 6);
    const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === 6);
    await send(p6);
    const e = await accepted;
    expect(e.type === 'proof' && e.gap).toEqual({ from: 4, to: 5 });
    await ack;
    expect(h.svc.ingest.live(dev.id)?.proofGaps).toBe(2);
    chain.push(p6);
  });

  it('drops a proof a device sends for another device; nothing is stored for either', async () => {
    const c2 = await h.connect(other, []);
    const before = h.server.deps.metrics.get('loa_mqtt_invalid_payloads_total', { kind: 'proof' });
    const p = makeProof(dev.id, dev.keys, 7, proofHash(chain.at(-1) as Proof));
    await send(p, c2, other.id);
    await eventually(
      () => h.server.deps.metrics.get('loa_mqtt_invalid_payloads_total', { kind: 'proof' }) > before,
    );
    expect(await stored(other.id)).toHaveLength(0);
    expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(6);
  });

  it('accepts proofs over HTTP with the device credentials (same checks), refuses without them', async () => {
    const p7 = makeProof(dev.id, dev.keys, 7, proofHash(chain.at(-1) as Proof));
    const p8 = makeProof(dev.id, dev.keys, 8, proofHash(p7));
    const anon = await h.api(null, 'POST', '/api/v1/ingest/proofs', { proofs: [p7] });
    expect(anon.status).toBe(401);
    const r = await h.api<{ results: { verdict: string }[]; ackUpToSeq: number }>(
      null,
      'POST',
      '/api/v1/ingest/proofs',
      { proofs: [p7, p8, p7] },
      { authorization: dev.basic },
    );
    expect(r.status).toBe(200);
    expect(r.body.results.map((x) => x.verdict)).toEqual(['accept', 'accept', 'duplicate']);
    expect(r.body.ackUpToSeq).toBe(8);
    // another device's credentials cannot upload this device's proofs
    const foreign = await h.api<{ results: { verdict: string; code: string }[] }>(
      null,
      'POST',
      '/api/v1/ingest/proofs',
      { proofs: [makeProof(dev.id, dev.keys, 9, proofHash(p8))] },
      { authorization: other.basic },
    );
    expect(foreign.body.results[0]).toMatchObject({ verdict: 'reject', code: 'PROOF_DEVICE_MISMATCH' });
    expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(8);
  });

  it('shows the stored proofs and the live state to a viewer in scope only', async () => {
    const r = await h.api<{ proof: Proof }[]>(viewer, 'GET', `/api/v1/devices/${dev.id}/proofs`);
    expect(r.status).toBe(200);
    expect(r.body.map((x) => x.proof.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 6, 7, 8]);
    const live = await h.api<{ deviceId: string; proofsRejected: number }[]>(viewer, 'GET', '/api/v1/live');
    expect(live.body.find((s) => s.deviceId === dev.id)?.proofsRejected).toBe(2);
    const outsider = await h.user('xem.xa.khac', 'viewer', ['08/02600']);
    expect((await h.api(outsider, 'GET', `/api/v1/devices/${dev.id}/proofs`)).status).toBe(404);
    expect((await h.api<unknown[]>(outsider, 'GET', '/api/v1/live')).body).toEqual([]);
  });

  it('sends one cumulative ack for proofs that were queued together, only once all are stored', async () => {
    const acks: number[] = [];
    const onAck = (topic: string, payload: Buffer) => {
      if (topic === deviceTopic(dev.id, 'ack')) acks.push((JSON.parse(payload.toString()) as Ack).upToSeq);
    };
    client.on('message', onAck);
    try {
      const tip = h.server.deps.store.proofs.last(dev.id);
      if (!tip) throw new Error('the earlier tests stored proofs');
      let prev = tip.hash;
      const burst: Proof[] = [];
      const from = tip.seq + 1;
      for (let seq = from; seq < from + 10; seq++) {
        const p = makeProof(dev.id, dev.keys, seq, prev);
        burst.push(p);
        prev = proofHash(p);
      }
      const last = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === from + 9);
      // all ten queued at once, as when a station comes back and sends its backlog
      const results = await Promise.all(burst.map((p) => h.svc.ingest.ingestProof(dev.id, p)));
      expect(results.every((r) => r.verdict === 'accept')).toBe(true);
      await last;
      expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(from + 9);
      // a replay afterwards is re-acked on its own: the held ack was not lost or duplicated
      const again = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === from + 9);
      await h.svc.ingest.ingestProof(dev.id, burst[3] as Proof);
      await again;
      expect(acks).toEqual([from + 9, from + 9]);
    } finally {
      client.off('message', onAck);
    }
  });
});
