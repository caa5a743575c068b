/**
 * Scenario 3: proof ingest (signature + chain + storage) per second beside raw Ed25519
 * verifications per second over a message of the same size.
 */
import { generateKeyPair, signingBytes } from '@loa/protocol';
import { ed25519VerifyPerSecond, fsyncLatencyMs } from '../baselines/crypto.js';
import { figure, type Scenario, Unavailable } from '../harness.js';
import { round } from '../stats.js';
import { realProofIngest } from './proofs-real.js';
import { proofChain } from './samples.js';

export const proofs: Scenario = {
  name: 'proofs',
  title: 'Proof ingest: signature + chain + storage per second',
  budgetMs: { quick: 30_000, full: 120_000 },
  async run(ctx) {
    const sample = proofChain('bench-0001', generateKeyPair(), 1, new Date())[0];
    const bytes = sample ? signingBytes(sample).length : 600;
    const raw = ed25519VerifyPerSecond(bytes, ctx.quick ? 2000 : 5000);
    const notes = [
      `raw node:crypto Ed25519 verify over ${bytes} B messages (the canonical bytes of a proof).`,
    ];
    const baseFig = figure('proofs.raw', 'raw Ed25519 verify', raw, 'verify/s');
    try {
      const real = await realProofIngest(ctx, {
        devices: ctx.quick ? 100 : 1000,
        perDevice: ctx.quick ? 20 : 30,
      });
      notes.push(...real.notes);
      const fsyncMs = await fsyncLatencyMs(ctx.tmpDir);
      notes.push(
        `profile: a 1 KB append + fsync in the same directory takes ${round(fsyncMs)} ms (median). Each device's proofs are ` +
          'handled strictly in order (verify → durable append → ack), and appends of all devices share one fsync, so ' +
          'throughput ≈ devices in flight ÷ fsync latency when the server CPU is not saturated.',
      );
      return {
        notes,
        figures: [
          figure('proofs.ingest', 'proof ingest (verify + chain + store)', real.perSecond, 'proof/s', {
            baseline: { label: 'raw Ed25519 verify', value: raw, unit: 'verify/s' },
            goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw verify' },
          }),
          baseFig,
        ],
        details: real.details,
      };
    } catch (e) {
      if (e instanceof Unavailable) throw new Unavailable(e.message, { figures: [baseFig], notes });
      throw e;
    }
  },
};
