/**
 * Scenario 3: proof ingest (signature + chain + storage) per second beside raw Ed25519
 * verifications per second over a message of the same size.
 */
import { checkSignatures, generateKeyPair, ProofSchema, proofHash, signingBytes } from '@loa/protocol';
import { ed25519Verify, fsyncLatencyMs } from '../baselines/crypto.js';
import { figure, type Scenario, Unavailable } from '../harness.js';
import { round } from '../stats.js';
import { realProofIngest } from './proofs-real.js';
import { proofChain } from './samples.js';

/** Where one proof's CPU goes on the server path, measured on the pure steps in this process. */
function proofCostProfile(): string {
  const key = generateKeyPair();
  const chain = proofChain('bench-0002', key, 300, new Date());
  const texts = chain.map((p) => JSON.stringify(p));
  const t = (fn: () => void) => {
    fn(); // warm-up: the first pass measures the JIT, not the step
    const s = performance.now();
    fn();
    return ((performance.now() - s) * 1000) / chain.length;
  };
  const parse = t(() => {
    for (const x of texts) ProofSchema.parse(JSON.parse(x));
  });
  const verify = t(() => {
    for (const p of chain) checkSignatures(p, () => key.publicKey);
  });
  const hash = t(() => {
    for (const p of chain) proofHash(p);
  });
  const store = t(() => {
    for (const p of chain) JSON.stringify({ deviceId: p.deviceId, receivedAt: p.at, hash: 'x', proof: p });
  });
  return (
    `CPU per proof on the pure steps (µs, this process): JSON + schema parse ${round(parse)}, signature check ` +
    `(canonical JSON + Ed25519) ${round(verify)}, chain hash (canonical JSON + SHA-256) ${round(hash)}, ` +
    `serialise for storage ${round(store)}; the rest of the server's cost is MQTT, the per-device queue, fsync and the ack.`
  );
}

export const proofs: Scenario = {
  name: 'proofs',
  title: 'Proof ingest: signature + chain + storage per second',
  budgetMs: { quick: 60_000, full: 240_000 },
  async run(ctx) {
    const sample = proofChain('bench-0001', generateKeyPair(), 1, new Date())[0];
    const bytes = sample ? signingBytes(sample).length : 600;
    const rawRun = ed25519Verify(bytes, ctx.quick ? 2000 : 5000);
    const raw = rawRun.perSecond;
    const notes = [
      `raw node:crypto Ed25519 verify over ${bytes} B messages (the canonical bytes of a proof).`,
    ];
    const baseFig = figure('proofs.raw', 'raw Ed25519 verify', raw, 'verify/s');
    try {
      const size = { devices: ctx.quick ? 100 : 1000, perDevice: ctx.quick ? 20 : 30 };
      // a backlog sent as the agent sends it (batches), then one proof per message (older agents)
      const real = await realProofIngest(ctx, { ...size, batched: true });
      const single = await realProofIngest(ctx, { ...size, batched: false });
      notes.push(...real.notes, ...single.notes);
      notes.push(proofCostProfile());
      const fsyncMs = await fsyncLatencyMs(ctx.tmpDir);
      const devices = ctx.quick ? 100 : 1000;
      const fsyncBound = (devices * 1000) / Math.max(fsyncMs, 0.001);
      notes.push(
        `profile: a 1 KB append + fsync in the same directory takes ${round(fsyncMs)} ms (median). Each device's proofs are ` +
          'handled strictly in order (verify → durable append → ack) and the appends of all devices share one fsync, so ' +
          `fsync alone would allow about ${round(fsyncBound)} proofs/s with ${devices} devices in flight: ` +
          (fsyncBound > real.perSecond * 3
            ? 'the limit here is CPU per proof (see the CPU-normalised figure and the per-step costs above).'
            : 'fsync latency is a real limit here.'),
      );
      return {
        notes,
        figures: [
          figure(
            'proofs.ingest',
            'proof ingest, batched (verify + chain + store)',
            real.perSecond,
            'proof/s',
            {
              baseline: { label: 'raw Ed25519 verify', value: raw, unit: 'verify/s' },
              goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw verify' },
            },
          ),
          figure(
            'proofs.ingest.cpu',
            'proof ingest per server CPU-second, batched (load-independent view)',
            real.perCpuSecond,
            'proof/CPU-s',
            {
              baseline: {
                label: 'raw Ed25519 verify per CPU-second',
                value: rawRun.perCpuSecond,
                unit: 'verify/CPU-s',
              },
              goal: { better: 'higher', ratio: 0.5, text: '≥ 0.5× raw verify' },
            },
          ),
          figure(
            'proofs.ingest.single.cpu',
            'proof ingest per server CPU-second, one proof per message (older agents)',
            single.perCpuSecond,
            'proof/CPU-s',
            {
              baseline: {
                label: 'raw Ed25519 verify per CPU-second',
                value: rawRun.perCpuSecond,
                unit: 'verify/CPU-s',
              },
            },
          ),
          baseFig,
        ],
        details: { batched: real.details, single: single.details },
      };
    } catch (e) {
      if (e instanceof Unavailable) throw new Unavailable(e.message, { figures: [baseFig], notes });
      throw e;
    }
  },
};
