/**
 * Child process for the kill -9 test: appends proofs durably and rewrites the registry as fast as
 * it can, printing "ack <n>" after each proof append resolved (= what the server would ack).
 */
import { randomUUID } from 'node:crypto';
import { createFileStore } from '../../../fleet-server/src/store/file-store.js';

const dir = process.argv[2] as string;
const start = Number(process.argv[3] ?? '1');
const store = createFileStore({
  dataDir: dir,
  now: () => Date.now(),
  retentionDays: 30,
  registryFlushMs: 5,
  healthFsyncMs: 20,
});
await store.start();
process.stdout.write('ready\n');
const now = () => new Date().toISOString();
for (let n = start; ; n++) {
  // registry churn: a unit renamed every round (coalesced writes of a growing file)
  await store.units.put({
    path: `08/${String(10000 + (n % 500))}`,
    code: String(10000 + (n % 500)),
    name: `u${n}`,
    level: 'commune',
    parent: '08',
    createdAt: now(),
    updatedAt: now(),
  });
  void store.health.append({ deviceId: 'dev-1', receivedAt: now(), health: { n } as never });
  await store.proofs.append({
    deviceId: 'dev-1',
    receivedAt: now(),
    hash: String(n).padStart(64, '0'),
    proof: { seq: n, eventId: randomUUID(), deviceId: 'dev-1' } as never,
  });
  process.stdout.write(`ack ${n}\n`);
}
