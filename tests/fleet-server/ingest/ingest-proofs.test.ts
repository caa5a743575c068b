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
  PROOF_BATCH_MAX,
  type Proof,
  type ProofBody,
  packProofMessages,
  proofHash,
} from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestEvent } from '../../../fleet-server/src/services/ingest-service.js';
import type { FileProofStream } from '../../../fleet-server/src/store/segments/streams.js';
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

  /** Proofs chained from the stored tip of `dev` (the earlier tests left it somewhere). */
  const fromTip = (n: number, sign: (seq: number) => KeyPair = () => dev.keys): Proof[] => {
    const tip = h.server.deps.store.proofs.last(dev.id);
    if (!tip) throw new Error('the earlier tests stored proofs');
    let prev = tip.hash;
    const out: Proof[] = [];
    for (let seq = tip.seq + 1; seq <= tip.seq + n; seq++) {
      const p = makeProof(dev.id, sign(seq), seq, prev);
      out.push(p);
      prev = proofHash(p); // the chain a real device holds, whatever was signed with
    }
    return out;
  };
  const batch = (proofs: Proof[]) => JSON.stringify({ type: 'loa-proof-batch', format: 1, proofs });

  it('accepts a batch of proofs in one message: stored in one append, one ack; a re-sent batch is re-acked only', async () => {
    const proofs = fromTip(12);
    const first = proofs[0] as Proof;
    const last = proofs.at(-1) as Proof;
    const appendedBefore = h.server.deps.store.stats().proofsAppended;
    const log = (h.server.deps.store.proofs as FileProofStream).log;
    const fsyncsBefore = log.fsyncs;
    const acks: number[] = [];
    const onAck = (topic: string, payload: Buffer) => {
      if (topic === deviceTopic(dev.id, 'ack')) acks.push((JSON.parse(payload.toString()) as Ack).upToSeq);
    };
    client.on('message', onAck);
    try {
      const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === last.seq);
      await client.publishAsync(deviceTopic(dev.id, 'proof'), batch(proofs), { qos: 1 });
      await ack;
      expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(last.seq);
      expect(h.server.deps.store.stats().proofsAppended - appendedBefore).toBe(12);
      expect(log.fsyncs - fsyncsBefore).toBe(1); // the twelve went to disk in one durable write
      const rows = (await stored()).filter((r) => r.proof.seq >= first.seq);
      expect(rows.map((r) => r.proof.seq)).toEqual(proofs.map((p) => p.seq));
      expect(rows.map((r) => r.hash)).toEqual(proofs.map((p) => proofHash(p)));
      const dupBefore = h.server.deps.metrics.get('loa_proofs_duplicate_total');
      const again = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === last.seq);
      await client.publishAsync(deviceTopic(dev.id, 'proof'), batch(proofs), { qos: 1 });
      await again;
      expect(h.server.deps.metrics.get('loa_proofs_duplicate_total') - dupBefore).toBe(12);
      expect(h.server.deps.store.stats().proofsAppended - appendedBefore).toBe(12);
      // one ack per message, not one per proof
      expect(acks).toEqual([last.seq, last.seq]);
    } finally {
      client.off('message', onAck);
    }
  });

  it('refuses only the proof with a bad signature in a batch; the others are stored', async () => {
    const rogue = generateKeyPair();
    const tipSeq = h.server.deps.store.proofs.last(dev.id)?.seq ?? 0;
    const proofs = fromTip(4, (seq) => (seq === tipSeq + 2 ? rogue : dev.keys));
    const [p1, forged, p3, p4] = proofs as [Proof, Proof, Proof, Proof];
    const rejected = nextEvent(h, (e) => e.type === 'proof-rejected' && e.seq === forged.seq);
    const gapSeen = nextEvent(h, (e) => e.type === 'proof' && e.proof.seq === p3.seq);
    const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === p4.seq);
    await client.publishAsync(deviceTopic(dev.id, 'proof'), batch(proofs), { qos: 1 });
    expect(await rejected).toMatchObject({ code: 'PROOF_SIGNATURE_INVALID' });
    // the refused proof left the chain at p1: p3 (which links to it) comes as after a gap
    const g = await gapSeen;
    expect(g.type === 'proof' && g.gap).toEqual({ from: forged.seq, to: forged.seq });
    await ack;
    const seqs = (await stored()).map((r) => r.proof.seq);
    expect(seqs).toEqual(expect.arrayContaining([p1.seq, p3.seq, p4.seq]));
    expect(seqs).not.toContain(forged.seq);
  });

  it("drops a whole batch that is out of order, too long or carries another device's proof", async () => {
    const invalid = () => h.server.deps.metrics.get('loa_mqtt_invalid_payloads_total', { kind: 'proof' });
    const before = invalid();
    const tip = h.server.deps.store.proofs.last(dev.id)?.seq;
    const [a, b] = fromTip(2) as [Proof, Proof];
    const foreign = makeProof(other.id, other.keys, 1, GENESIS_PREV);
    await client.publishAsync(deviceTopic(dev.id, 'proof'), batch([b, a]), { qos: 1 });
    await client.publishAsync(deviceTopic(dev.id, 'proof'), batch([a, foreign]), { qos: 1 });
    await client.publishAsync(
      deviceTopic(dev.id, 'proof'),
      batch(Array.from({ length: PROOF_BATCH_MAX + 1 }, () => a)),
      { qos: 1 },
    );
    await client.publishAsync(deviceTopic(dev.id, 'proof'), batch([]), { qos: 1 });
    await eventually(() => (invalid() - before === 4 ? true : undefined));
    expect(client.connected).toBe(true);
    expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(tip);
    expect(await stored(other.id)).toHaveLength(0);
  });

  it('takes what the agent packs: batches under the size cap, a lone proof in the single form', async () => {
    const proofs = fromTip(40);
    const messages = packProofMessages(proofs, 8 * 1024);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(8 * 1024);
    const lone = packProofMessages(proofs.slice(0, 1));
    expect(JSON.parse(lone[0]?.payload ?? '')).toMatchObject({ type: 'loa-proof', seq: proofs[0]?.seq });
    const last = proofs.at(-1) as Proof;
    const ack = nextMessage<Ack>(client, deviceTopic(dev.id, 'ack'), (a) => a.upToSeq === last.seq);
    for (const m of messages) await client.publishAsync(deviceTopic(dev.id, 'proof'), m.payload, { qos: 1 });
    await ack;
    expect(messages.at(-1)?.lastSeq).toBe(last.seq);
    expect(h.server.deps.store.proofs.last(dev.id)?.seq).toBe(last.seq);
  });
});
