/** Realistic payloads for the benchmarks, built with the protocol's own schemas. */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  GENESIS_PREV,
  type Health,
  HealthSchema,
  type KeyPair,
  type Proof,
  ProofSchema,
  proofHash,
} from '@loa/protocol';

export function sampleHealth(seq: number, now: Date): Health {
  return HealthSchema.parse({
    at: now.toISOString(),
    seq,
    agentVersion: '0.1.0',
    uptimeS: 3600 + seq * 30,
    cpuTempC: 52.5,
    load1: 0.31,
    memUsedMb: 182,
    memTotalMb: 3796,
    diskFreeMb: 11_240,
    modem: { rssiDbm: -79, operator: 'Viettel', registration: 'home', tech: 'LTE', failures: 0 },
    inputs: { mains: true, door: 'closed', ampFault: false },
    relays: { amplifier: false, zones: { a: false, b: false }, input: 'player' },
    onAir: null,
    volume: 70,
    bundles: [{ channel: 'commune-08-02500', id: 'b-2026-11-26', version: 42 }],
    trustVersion: 1,
    clock: { trusted: true, source: 'ntp', lastTrusted: now.toISOString() },
    proofBacklog: 0,
    deadAir: false,
  });
}

/** A chain of `n` signed proofs for one device. */
export function proofChain(deviceId: string, key: KeyPair, n: number, start: Date): Proof[] {
  const out: Proof[] = [];
  let prev = GENESIS_PREV;
  for (let i = 0; i < n; i++) {
    const t = new Date(start.getTime() + i * 60_000).toISOString();
    const body = {
      type: 'loa-proof' as const,
      format: 1 as const,
      eventId: randomUUID(),
      deviceId,
      seq: i + 1,
      prev,
      bundleId: 'b-2026-11-26',
      channel: 'commune-08-02500',
      bundleVersion: 42,
      itemId: 'ban-tin-sang',
      entryId: 'sang',
      contentSha256: 'b'.repeat(64),
      priority: 'normal' as const,
      scheduledAt: t,
      startedAt: t,
      endedAt: t,
      outcome: 'completed' as const,
      loudnessLufs: -16.2,
      peakDbfs: -1.4,
      relays: { amplifier: true },
      clockTrusted: true,
      at: t,
    };
    const proof = ProofSchema.parse(addSignature(body, key.privateKey));
    out.push(proof);
    prev = proofHash(proof);
  }
  return out;
}
