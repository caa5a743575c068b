/**
 * `loa-fleet-server copy-store --from <store> --to <store>`: moves everything from one store into
 * an empty one and verifies the move by counts and hashes (store/transfer.ts). A store is
 * `lowdb:<data directory>` or `postgres:<postgres://… URL>`. Blobs and keys stay in the data
 * directory, which both stores use. Run it with the server stopped. Neither side drops anything
 * while copying; history older than RETENTION_DAYS is not copied (the source would drop it too).
 */
import { LoaError } from '@loa/protocol';
import { createFileStore } from './store/file-store.js';
import { createPgStore } from './store/pg-store.js';
import type { Store } from './store/ports.js';
import { copyStore, type Digest, digestDifferences, storeDigest } from './store/transfer.js';

export interface CopyStoreOptions {
  from: string;
  to: string;
  retentionDays: number;
  now: () => number;
  out: (line: string) => void;
}

/** Retention while copying: nothing is dropped on either side (the server applies its own at start). */
const NO_RETENTION_DAYS = 3650;

function open(spec: string, o: CopyStoreOptions, clock: { day: string | undefined }): Store {
  const [kind, ...rest] = spec.split(':');
  const where = rest.join(':');
  if (!where)
    throw new LoaError('CONFIG_INVALID', `kho "${spec}" không hợp lệ: lowdb:<thư mục> hoặc postgres:<URL>`);
  // an embedded target writes each day of history into that day's segment: its clock follows the copy
  const now = () => (clock.day ? Date.parse(`${clock.day}T12:00:00.000Z`) : o.now());
  if (kind === 'lowdb')
    return createFileStore({
      dataDir: where,
      now,
      retentionDays: NO_RETENTION_DAYS,
      registryFlushMs: 50,
      healthFsyncMs: 200,
    });
  if (kind === 'postgres') return createPgStore({ url: where, now: o.now, retentionDays: NO_RETENTION_DAYS });
  throw new LoaError('CONFIG_INVALID', `kho "${spec}" không hợp lệ: lowdb:<thư mục> hoặc postgres:<URL>`);
}

function table(d: Digest): string[] {
  return Object.entries(d).map(
    ([n, v]) => `  ${n.padEnd(16)} ${String(v.count).padStart(9)}  ${v.sha256.slice(0, 16)}`,
  );
}

/** Copies and verifies; returns the digest of the target (equal to the source's). */
export async function copyStoreCommand(o: CopyStoreOptions): Promise<Digest> {
  const clock: { day: string | undefined } = { day: undefined };
  const from = open(o.from, o, { day: undefined });
  const to = open(o.to, o, clock);
  await from.start();
  try {
    await to.start();
    try {
      const range = { days: o.retentionDays + 1, now: o.now() };
      await copyStore(from, to, { ...range, onDay: (day) => (clock.day = day) });
      const a = await storeDigest(from, range);
      const b = await storeDigest(to, range);
      const diff = digestDifferences(a, b);
      o.out(`copied ${o.from.split(':')[0]} → ${o.to.split(':')[0]}:`);
      for (const l of table(b)) o.out(l);
      if (diff.length > 0)
        throw new LoaError('STORE_COPY_MISMATCH', `bản sao khác nguồn ở: ${diff.join(', ')}`, {
          details: { diff },
        });
      o.out('verified: every count and hash matches the source');
      return b;
    } finally {
      await to.stop();
    }
  } finally {
    await from.stop();
  }
}
