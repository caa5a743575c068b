/**
 * Amplification: a station answering made-up command ids must not make the server scan its audit
 * log per id (real broker, real mqtt.js client), and a proof numbered 2^53−1 must not turn the
 * device's later real proofs into "duplicates".
 */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  deviceTopic,
  GENESIS_PREV,
  generateKeyPair,
  type Proof,
  type ProofBody,
  proofHash,
} from '@loa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProof, MAX_PROOF_SEQ_JUMP } from '../../../fleet-server/src/domain/proof-chain.js';
import { connectDevice, enrolDevice, loginAs, startTestServer, type TestServer } from '../app/harness.js';

describe('amplification', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('made-up command ids in command results cost at most one audit scan in all', async () => {
    s = await startTestServer({ config: { broker: { ratePerSecond: 1000, burst: 1000 } } });
    const admin = await loginAs(s, 'boss', 'administrator', ['08']);
    const d = await enrolDevice(s, admin, '08/02503');
    const audit = s.deps.store.audit;
    const query = audit.query.bind(audit);
    let scans = 0;
    audit.query = (q) => {
      if (q?.action?.startsWith('command.')) scans++;
      return query(q);
    };
    const c = await connectDevice(s.mqttUrl, d.deviceId, d.password);
    for (let i = 0; i < 200; i++)
      await c.publishAsync(
        deviceTopic(d.deviceId, 'cmd-result'),
        JSON.stringify({ id: randomUUID(), ok: true, at: new Date().toISOString() }),
        { qos: 1 },
      );
    // let the handlers run
    await new Promise((r) => setTimeout(r, 300));
    expect(scans).toBeLessThanOrEqual(1);
    expect(await audit.query({ action: 'command.result' })).toEqual([]);
    c.end(true);
  });

  it('a proof numbered 2^53−1 is refused and the real chain goes on', () => {
    const key = generateKeyPair();
    const mk = (seq: number, prev: string): Proof =>
      addSignature(
        {
          type: 'loa-proof',
          format: 1,
          eventId: randomUUID(),
          deviceId: 'st-1',
          seq,
          prev,
          outcome: 'completed',
          relays: { amplifier: true },
          clockTrusted: true,
          at: '2026-11-26T05:30:00+07:00',
        } satisfies ProofBody,
        key.privateKey,
      ) as Proof;
    const first = mk(1, GENESIS_PREV);
    const ok = checkProof(first, 'st-1', key.publicKey, undefined);
    expect(ok.kind).toBe('accept');
    const state = { seq: 1, hash: proofHash(first) };
    const huge = checkProof(mk(Number.MAX_SAFE_INTEGER, proofHash(first)), 'st-1', key.publicKey, state);
    expect(huge).toMatchObject({ kind: 'reject', code: 'PROOF_SEQ_JUMP' });
    // the state did not move: the next real proof is accepted, not a duplicate
    expect(checkProof(mk(2, proofHash(first)), 'st-1', key.publicKey, state).kind).toBe('accept');
    // a real loss on the device (a gap within the bound) is still accepted with its gap
    const gap = checkProof(mk(1 + MAX_PROOF_SEQ_JUMP, 'x'.repeat(64)), 'st-1', key.publicKey, state);
    expect(gap).toMatchObject({ kind: 'accept', gap: { from: 2, to: MAX_PROOF_SEQ_JUMP } });
  });
});
