/**
 * Moving everything a store holds into another (embedded ⇄ PostgreSQL), through the ports only,
 * and a digest to verify the move: per collection and stream a count and a SHA-256 over the
 * canonical JSON of its records (registry sorted by id, streams in append order), computed the
 * same way on both sides. Streams move day by day, oldest first; `onDay` lets the caller move an
 * embedded target's clock to that day so that each day lands in its own segment file.
 */
import { createHash } from 'node:crypto';
import { canonicalize, LoaError } from '@loa/protocol';
import type { AuditEntry } from '../domain/model.js';
import type { Repository, Store } from './ports.js';

/**
 * The keyed collections moved as they are (units first: the others refer to them). A new
 * `Repository<T>` collection of the Store is added here too.
 */
export const REGISTRY_COLLECTIONS = [
  'units',
  'groups',
  'zones',
  'users',
  'devices',
  'sessions',
  'apiTokens',
  'enrolmentTokens',
  'signingKeys',
  'content',
  'bundles',
  'alerts',
  'webhooks',
  'feedback',
  'ratings',
  'pushSubscriptions',
  'register',
  'periodicReports',
  'lexicon',
  'staff',
  'trainingCourses',
  'trainingAttendance',
  'documents',
  'choices',
] as const satisfies readonly (keyof Store)[];

/** Every keyed collection of the Store (a collection added to the ports and not listed above fails to compile here). */
type StoreCollections = {
  [K in keyof Store]: Store[K] extends Repository<infer _T, string> ? K : never;
}[keyof Store];
type NotCopied = Exclude<StoreCollections, (typeof REGISTRY_COLLECTIONS)[number]>;
const everyCollectionCopied: [NotCopied] extends [never] ? true : NotCopied = true;
void everyCollectionCopied;

export interface TransferOptions {
  /** Days of health and proofs to move, back from `now` (the source's retention). */
  days: number;
  now: number;
  /** Called before a day's stream entries are appended ("YYYY-MM-DD"), and with undefined after. */
  onDay?: (day: string | undefined) => void;
  /** Entries per write (default 1000). */
  batch?: number;
}

export interface Digest {
  [name: string]: { count: number; sha256: string };
}

const DAY = 86_400_000;
/** Presence is kept at least this long (store/file-store.ts, store/pg-store.ts). */
const PRESENCE_DAYS = 366;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const idOf = (r: object): string => {
  const x = r as Record<string, unknown>;
  return String(x.id ?? x.path ?? x.keyid ?? `${x.bundleId}|${x.deviceId}`);
};
const repo = (s: Store, name: (typeof REGISTRY_COLLECTIONS)[number]) => s[name] as Repository<object>;

function days(o: TransferOptions): string[] {
  const out: string[] = [];
  for (let t = o.now - o.days * DAY; t <= o.now + DAY; t += DAY) out.push(dayOf(t));
  return out;
}

async function streamDay<T>(
  query: (q: { from: string; to: string; limit: number }) => Promise<T[]>,
  day: string,
): Promise<T[]> {
  return query({ from: `${day}T00:00:00.000Z`, to: `${day}T23:59:59.999Z`, limit: Number.MAX_SAFE_INTEGER });
}

/** Every audit entry, oldest first. */
async function allAudit(s: Store): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await s.audit.query({ limit: 5000, ...(before !== undefined ? { beforeSeq: before } : {}) });
    out.push(...page);
    if (page.length < 5000) break;
    before = page.at(-1)?.seq;
  }
  return out.reverse();
}

async function isEmpty(s: Store): Promise<boolean> {
  for (const name of REGISTRY_COLLECTIONS) if ((await repo(s, name).count()) > 0) return false;
  return (await s.audit.query({ limit: 1 })).length === 0 && (await s.trust.current()) === undefined;
}

/** Copies `from` into the empty store `to`. Refuses a target that holds anything. */
export async function copyStore(from: Store, to: Store, o: TransferOptions): Promise<void> {
  if (!(await isEmpty(to)))
    throw new LoaError('STORE_TARGET_NOT_EMPTY', 'kho đích đã có dữ liệu: chỉ chuyển vào một kho trống');
  const batch = o.batch ?? 1000;
  await to.units.putMany(await from.units.list());
  for (const name of REGISTRY_COLLECTIONS) {
    if (name === 'units') continue;
    for (const r of await repo(from, name).list()) await repo(to, name).put(r);
  }
  for (const b of await from.bundles.list()) await to.rollouts.putMany(await from.rollouts.forBundle(b.id));
  for (const p of await from.trust.history()) await to.trust.put(p);
  for (const day of days(o)) {
    const health = await streamDay((q) => from.health.query(q), day);
    const proofs = await streamDay((q) => from.proofs.query(q), day);
    if (health.length === 0 && proofs.length === 0) continue;
    o.onDay?.(day);
    await Promise.all(health.map((e) => to.health.append(e)));
    for (let i = 0; i < proofs.length; i += batch) await to.proofs.appendMany(proofs.slice(i, i + batch));
    await to.flush();
  }
  // presence is kept a year at least (uptime reports), longer than health and proofs
  for (const day of days({ ...o, days: Math.max(o.days, PRESENCE_DAYS) })) {
    const presence = await streamDay((q) => from.presence.query(q), day);
    if (presence.length === 0) continue;
    o.onDay?.(day);
    for (const e of presence) await to.presence.append(e);
  }
  await to.flush();
  const audit = await allAudit(from);
  let day = '';
  let chunk: AuditEntry[] = [];
  const write = async () => {
    if (chunk.length === 0) return;
    o.onDay?.(day);
    await to.audit.restore(chunk);
    chunk = [];
  };
  for (const e of audit) {
    if (e.at.slice(0, 10) !== day || chunk.length >= batch) {
      await write();
      day = e.at.slice(0, 10);
    }
    chunk.push(e);
  }
  await write();
  o.onDay?.(undefined);
  await to.flush();
}

class Hasher {
  count = 0;
  private readonly h = createHash('sha256');
  add(v: unknown): void {
    this.h.update(canonicalize(v));
    this.h.update('\n');
    this.count++;
  }
  done(): { count: number; sha256: string } {
    return { count: this.count, sha256: this.h.digest('hex') };
  }
}

/** Counts and hashes of everything a store holds (the same on both sides of a complete move). */
export async function storeDigest(s: Store, o: Pick<TransferOptions, 'days' | 'now'>): Promise<Digest> {
  const out: Digest = {};
  for (const name of REGISTRY_COLLECTIONS) {
    const h = new Hasher();
    const rows = (await repo(s, name).list()).sort((a, b) =>
      idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0,
    );
    for (const r of rows) h.add(r);
    out[name] = h.done();
  }
  const ro = new Hasher();
  for (const b of (await s.bundles.list()).sort((a, b) => (a.id < b.id ? -1 : 1)))
    for (const r of (await s.rollouts.forBundle(b.id)).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)))
      ro.add(r);
  out.rollouts = ro.done();
  const tr = new Hasher();
  for (const p of await s.trust.history()) tr.add(p);
  out.trust = tr.done();
  const he = new Hasher();
  const pr = new Hasher();
  for (const day of days({ ...o })) {
    for (const e of await streamDay((q) => s.health.query(q), day)) he.add(e);
    for (const e of await streamDay((q) => s.proofs.query(q), day)) pr.add(e);
  }
  out.health = he.done();
  out.proofs = pr.done();
  const pe = new Hasher();
  for (const day of days({ ...o, days: Math.max(o.days, PRESENCE_DAYS) }))
    for (const e of await streamDay((q) => s.presence.query(q), day)) pe.add(e);
  out.presence = pe.done();
  const au = new Hasher();
  for (const e of await allAudit(s)) au.add(e);
  out.audit = au.done();
  return out;
}

/** The names whose count or hash differ between two digests. */
export function digestDifferences(a: Digest, b: Digest): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => a[n]?.count !== b[n]?.count || a[n]?.sha256 !== b[n]?.sha256);
}
