/**
 * The report rollups (domain/reports/rollup.ts) kept in the store: brought up to date as each day
 * of the streams closes (`catchUp`, run by the reports plugin shortly after each UTC midnight and
 * before every report), rebuilt from the raw streams when missing (a new or restored store: no
 * watermark) or damaged (a part that fails its checksum: that day is refolded from the raw lines).
 *
 * - proofs: the reception windows (UTC days of the stream) up to the watermark are merged into the
 *   rollups of the event days they are about; a report folds the raw windows after it (today).
 * - presence: the Vietnamese days up to the watermark, each with the state at its end; a report
 *   folds the raw days after it, from the last state.
 *
 * The watermark is written after the rollups it covers: a crash in between leaves windows merged
 * and not yet counted, and a part lists the windows merged into it, so the next catch-up skips them.
 */
import { type Clock, globalTimers, type Timers } from '@loa/protocol';
import type { PresenceEntry } from '../domain/model.js';
import {
  type DeviceDayProofs,
  emptyFold,
  foldProofs,
  type ItemIndex,
  itemIndex,
  type ProofFold,
} from '../domain/reports/fold.js';
import { DAY_MS, utcDay, vnDay, vnDayStart } from '../domain/reports/period.js';
import {
  CLAMP_PART,
  dayOfParts,
  isCurrent,
  mergeWindow,
  type Placement,
  type PresenceClamp,
  type PresencePart,
  type PresenceServerPart,
  type PresenceStatePart,
  type PresenceSum,
  type ProofPart,
  type ProofSum,
  place,
  presenceFoldOf,
  presenceParts,
  presenceSumOf,
  ROLLUP_FORMAT,
  SERVER_PART,
  STATE_PART,
  SUM_PART,
  sumOfParts,
  UNPLACED_PART,
} from '../domain/reports/rollup.js';
import {
  emptyPresenceState,
  foldPresence,
  type PresenceFold,
  type PresenceState,
} from '../domain/reports/uptime.js';
import type { Store } from '../store/ports.js';
import { LruCache } from './lru-cache.js';

const ALL = Number.MAX_SAFE_INTEGER;
const META = 'meta';
const PROOFS = 'proofs';
const PRESENCE = 'presence';
/** Reception windows folded before their event days are written (fewer rewrites of each day). */
const CHUNK_WINDOWS = 7;
/** Rollups written or read at once. */
const PARALLEL = 8;

const nextDay = (day: string) => utcDay(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
const utcDayBounds = (day: string) => ({ from: `${day}T00:00:00.000Z`, to: `${day}T23:59:59.999Z` });

type Watermark = { v: number; through: string | null; from?: string | null };

export interface RollupBuildStats {
  proofWindows: number;
  presenceDays: number;
  rollupsWritten: number;
  ms: number;
}

async function inParallel<T>(items: readonly T[], fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const x = items[i++] as T;
      await fn(x);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

export interface ReportRollupsOptions {
  store: Store;
  clock: Clock;
  /** Bound of the rollup parts kept in memory once read (estimated heap bytes; 0: none kept). */
  cacheMaxBytes: number;
  onDamage?: (what: { kind: string; key: string; parts: string[] }) => void;
}

export class ReportRollups {
  readonly #o: ReportRollupsOptions;
  #placement: Placement | null = null;
  #proofsThrough: string | null = null;
  #presenceThrough: string | null = null;
  /** The first Vietnamese day of the presence rollups (days before it had no presence). */
  #presenceFrom: string | null = null;
  #loaded = false;
  #running: Promise<RollupBuildStats> | null = null;
  /** Days refolded from the raw streams because their rollup was damaged. */
  damagedRebuilt = 0;
  /** Rollup reads (a day's parts for a report), and those answered from memory. */
  reads = 0;
  cacheHits = 0;
  /** Decoded parts of days read, by kind, day and parts asked for; emptied whenever a rollup is written. */
  readonly cache: LruCache<string, { value: unknown; bytes: number }>;

  constructor(o: ReportRollupsOptions) {
    this.#o = o;
    this.cache = new LruCache(o.cacheMaxBytes, (v) => v.bytes);
  }

  async #cached<T>(key: string, load: () => Promise<{ value: T; bytes: number }>): Promise<T> {
    this.reads++;
    const hit = this.cache.get(key);
    if (hit) {
      this.cacheHits++;
      return hit.value as T;
    }
    const v = await load();
    if (this.#o.cacheMaxBytes > 0) this.cache.set(key, v);
    return v.value;
  }

  async #write(kind: string, key: string, parts: Readonly<Record<string, unknown>>): Promise<void> {
    this.cache.clear();
    await this.#o.store.rollups.write(kind, key, parts);
  }

  /** The last reception window (UTC day) merged into the proof rollups. */
  get proofsThrough(): string | null {
    return this.#proofsThrough;
  }

  /** The last Vietnamese day of the presence rollups. */
  get presenceThrough(): string | null {
    return this.#presenceThrough;
  }

  /** The parts holding these devices (where each was placed; a device never placed has none). */
  partsOf(deviceIds: Iterable<string>): string[] {
    const out = new Set<string>();
    const p = this.#placement ?? {};
    for (const id of deviceIds) {
      const x = p[id];
      if (x !== undefined) out.add(x);
    }
    return [...out].sort();
  }

  /** The share of the placed devices that these parts hold (0 when none is placed). */
  shareOf(parts: readonly string[]): number {
    const want = new Set(parts);
    let n = 0;
    let all = 0;
    for (const x of Object.values(this.#placement ?? {})) {
      all++;
      if (want.has(x)) n++;
    }
    return all === 0 ? 0 : n / all;
  }

  #keeper: { timers: Timers; timer: unknown; stopped: boolean } | null = null;

  /**
   * Keeps the rollups up to date in the background: a catch-up a minute after start (rollups of the
   * days stored before, or missing), then one whenever a day has closed (checked every `everyMs`),
   * so that the first report of the morning reads yesterday from its rollups.
   */
  startKeeping(o: { onError: (err: unknown) => void; timers?: Timers; everyMs?: number }): void {
    const timers = o.timers ?? globalTimers;
    const keeper = { timers, timer: undefined as unknown, stopped: false };
    this.#keeper = keeper;
    let done = '';
    const tick = () => {
      if (keeper.stopped) return;
      const today = utcDay(this.#o.clock.now());
      const next = () => {
        if (keeper.stopped) return;
        keeper.timer = timers.setTimeout(tick, o.everyMs ?? 10 * 60_000);
        (keeper.timer as { unref?: () => void } | undefined)?.unref?.();
      };
      if (today === done) return next();
      this.catchUp()
        .then(() => {
          done = today;
        })
        .catch(o.onError)
        .finally(next);
    };
    keeper.timer = timers.setTimeout(tick, 60_000);
    (keeper.timer as { unref?: () => void } | undefined)?.unref?.();
  }

  async stopKeeping(): Promise<void> {
    const k = this.#keeper;
    if (!k) return;
    k.stopped = true;
    k.timers.clearTimeout(k.timer);
    await this.#running?.catch(() => {});
  }

  /** Starts a report: the parts it reads keep each other in the cache. */
  beginReport(): void {
    this.cache.newEpoch();
  }

  /** Brings the rollups up to the last closed window and day (one run at a time). */
  catchUp(): Promise<RollupBuildStats> {
    if (this.#running) return this.#running;
    const run = this.#catchUp().finally(() => {
      this.#running = null;
    });
    this.#running = run;
    return run;
  }

  /** Forgets every rollup and builds them again from the raw streams. */
  async rebuild(): Promise<RollupBuildStats> {
    while (this.#running) await this.#running.catch(() => {});
    const { rollups } = this.#o.store;
    this.cache.clear();
    await rollups.clear(META);
    await rollups.clear(PROOFS);
    await rollups.clear(PRESENCE);
    this.#loaded = false;
    return this.catchUp();
  }

  async #load(): Promise<void> {
    if (this.#loaded) return;
    const { rollups } = this.#o.store;
    const meta = await rollups.read(META, 'state');
    const pl = meta.parts.placement as { v: number; p: Placement } | undefined;
    const wp = meta.parts.proofs as Watermark | undefined;
    const wq = meta.parts.presence as Watermark | undefined;
    if (!meta.found || meta.damaged.length > 0 || !isCurrent(pl) || !isCurrent(wp) || !isCurrent(wq)) {
      // no usable watermark (a new or restored store, or a damaged one): build everything again
      if (meta.found) this.#o.onDamage?.({ kind: META, key: 'state', parts: meta.damaged });
      await rollups.clear(PROOFS);
      await rollups.clear(PRESENCE);
      this.#placement = {};
      this.#proofsThrough = null;
      this.#presenceThrough = null;
      this.#presenceFrom = null;
    } else {
      this.#placement = (pl as { p: Placement }).p;
      this.#proofsThrough = (wp as Watermark).through;
      this.#presenceThrough = (wq as Watermark).through;
      this.#presenceFrom = (wq as Watermark).from ?? null;
    }
    this.#loaded = true;
  }

  async #saveMeta(): Promise<void> {
    await this.#write(META, 'state', {
      placement: { v: ROLLUP_FORMAT, p: this.#placement ?? {} },
      proofs: { v: ROLLUP_FORMAT, through: this.#proofsThrough } satisfies Watermark,
      presence: {
        v: ROLLUP_FORMAT,
        through: this.#presenceThrough,
        from: this.#presenceFrom,
      } satisfies Watermark,
    });
  }

  async #placeDevices(ids: Iterable<string>): Promise<boolean> {
    const placement = this.#placement as Placement;
    const unplaced = [...ids].filter((id) => placement[id] === undefined);
    if (unplaced.length === 0) return false;
    const devices = await this.#o.store.devices.list();
    const unit = new Map(devices.map((d) => [d.id, d.unit]));
    return place(placement, unplaced, (id) => unit.get(id));
  }

  async #items(): Promise<ItemIndex> {
    return itemIndex(await this.#o.store.bundles.list());
  }

  async #catchUp(): Promise<RollupBuildStats> {
    const t0 = performance.now();
    await this.#load();
    const stats: RollupBuildStats = { proofWindows: 0, presenceDays: 0, rollupsWritten: 0, ms: 0 };
    await this.#catchUpProofs(stats);
    await this.#catchUpPresence(stats);
    stats.ms = performance.now() - t0;
    return stats;
  }

  // ---------------------------------------------------------------- proofs
  /** A reception window's fold, from the raw stream. */
  async foldWindow(window: string, items: ItemIndex): Promise<ProofFold> {
    const entries = await this.#o.store.proofs.query({ ...utcDayBounds(window), limit: ALL });
    return foldProofs(emptyFold(), entries, items);
  }

  async #catchUpProofs(stats: RollupBuildStats): Promise<void> {
    const { store, clock } = this.#o;
    const today = utcDay(clock.now());
    let first: string;
    if (this.#proofsThrough === null) {
      const oldest = await store.proofs.page({ limit: 1 });
      const e = oldest.entries[0];
      if (!e) return;
      first = utcDay(Date.parse(e.receivedAt));
    } else first = nextDay(this.#proofsThrough);
    const windows: string[] = [];
    for (let w = first; w < today; w = nextDay(w)) windows.push(w);
    if (windows.length === 0) return;
    const items = await this.#items();
    for (let i = 0; i < windows.length; i += CHUNK_WINDOWS) {
      const chunk = windows.slice(i, i + CHUNK_WINDOWS);
      const folds: [string, ProofFold][] = [];
      for (const w of chunk) folds.push([w, await this.foldWindow(w, items)]);
      const ids = new Set<string>();
      for (const [, f] of folds)
        for (const devices of Object.values(f.days)) for (const id of Object.keys(devices)) ids.add(id);
      if (await this.#placeDevices(ids)) await this.#saveMeta();
      const days = new Map<string, Record<string, ProofPart>>();
      const touched = [...new Set(folds.flatMap(([, f]) => Object.keys(f.days)))].sort();
      await inParallel(touched, async (day) => {
        days.set(day, await this.#storedProofDay(day, items));
      });
      for (const [w, f] of folds) mergeWindow(days, w, f, this.#placement as Placement);
      await inParallel(touched, async (day) => {
        await this.#writeProofDay(day, days.get(day) as Record<string, ProofPart>);
        stats.rollupsWritten++;
      });
      this.#proofsThrough = chunk[chunk.length - 1] as string;
      await this.#saveMeta();
      stats.proofWindows += chunk.length;
    }
  }

  /** An event day's proof rollup: its parts and, in `SUM_PART`, their totals. */
  async #writeProofDay(day: string, parts: Record<string, ProofPart>): Promise<void> {
    const { [SUM_PART]: _old, ...devices } = parts;
    await this.#write(PROOFS, day, { ...devices, [SUM_PART]: sumOfParts(devices) });
  }

  /** Every part of an event day's rollup as stored (not the totals), refolded from the raw windows when damaged. */
  async #storedProofDay(day: string, items: ItemIndex): Promise<Record<string, ProofPart>> {
    const r = await this.#o.store.rollups.read(PROOFS, day);
    const bad = r.damaged.length > 0 || Object.values(r.parts).some((p) => !isCurrent(p));
    if (!bad) {
      const { [SUM_PART]: _sum, ...parts } = r.parts;
      return parts as Record<string, ProofPart>;
    }
    this.#o.onDamage?.({ kind: PROOFS, key: day, parts: r.damaged });
    return this.#refoldProofDay(day, items);
  }

  /**
   * An event day's parts from the raw windows that can hold proofs about it: from the window of
   * the day's start to the watermark (proofs are received after what they are about).
   */
  async #refoldProofDay(day: string, items: ItemIndex): Promise<Record<string, ProofPart>> {
    this.damagedRebuilt++;
    const days = new Map<string, Record<string, ProofPart>>([[day, {}]]);
    if (this.#proofsThrough === null) return {};
    for (let w = utcDay(vnDayStart(day)); w <= this.#proofsThrough; w = nextDay(w)) {
      const f = await this.foldWindow(w, items);
      const about = f.days[day];
      if (!about) continue;
      await this.#placeDevices(Object.keys(about));
      mergeWindow(days, w, { days: { [day]: about }, proofs: 0 }, this.#placement as Placement);
    }
    return days.get(day) as Record<string, ProofPart>;
  }

  /**
   * The device days of an event day for these parts (from the rollups; a damaged rollup is refolded
   * from the raw windows and written again).
   */
  async proofDay(day: string, parts: readonly string[]): Promise<Record<string, DeviceDayProofs>> {
    if (parts.length === 0) return {};
    return this.#cached(`p|${day}|${parts.join(',')}`, async () => {
      const r = await this.#o.store.rollups.read(PROOFS, day, parts);
      let got = r.parts as Record<string, ProofPart>;
      if (r.damaged.length > 0 || !Object.values(r.parts).every(isCurrent)) {
        this.#o.onDamage?.({ kind: PROOFS, key: day, parts: r.damaged });
        got = await this.#refoldProofDay(day, await this.#items());
        await this.#writeProofDay(day, got);
        await this.#saveMeta();
      }
      const list = parts.map((p) => got[p]).filter((x): x is ProofPart => x !== undefined);
      let devices = 0;
      for (const p of list) devices += Object.keys(p.d).length;
      return { value: dayOfParts(list), bytes: 200 + devices * 400 };
    });
  }

  /**
   * The totals of every part of an event day (one small read; a damaged rollup is refolded from the
   * raw windows and written again; a rollup written before the totals existed gives them from its
   * parts).
   */
  async proofSum(day: string): Promise<ProofSum['u']> {
    return this.#cached(`u|${day}`, async () => {
      const { rollups } = this.#o.store;
      const r = await rollups.read(PROOFS, day, [SUM_PART]);
      let sum = r.parts[SUM_PART] as ProofSum | undefined;
      if (r.damaged.length > 0 || (sum !== undefined && !isCurrent(sum))) {
        this.#o.onDamage?.({ kind: PROOFS, key: day, parts: r.damaged });
        const got = await this.#refoldProofDay(day, await this.#items());
        await this.#writeProofDay(day, got);
        await this.#saveMeta();
        sum = sumOfParts(got);
      } else if (sum === undefined && r.found) {
        const all = await rollups.read(PROOFS, day);
        if (all.damaged.length > 0 || !Object.values(all.parts).every(isCurrent)) {
          this.#o.onDamage?.({ kind: PROOFS, key: day, parts: all.damaged });
          const got = await this.#refoldProofDay(day, await this.#items());
          await this.#writeProofDay(day, got);
          await this.#saveMeta();
          sum = sumOfParts(got);
        } else sum = sumOfParts(all.parts as Record<string, ProofPart>);
      }
      const u = sum?.u ?? {};
      let n = 0;
      for (const s of Object.values(u)) n += s.ids.length;
      return { value: u, bytes: 200 + n * 120 };
    });
  }

  // ---------------------------------------------------------------- presence
  async #catchUpPresence(stats: RollupBuildStats): Promise<void> {
    const { store, clock } = this.#o;
    const today = vnDay(clock.now());
    let state: PresenceState;
    let first: string;
    if (this.#presenceThrough === null) {
      const at = await store.presence.firstAt();
      if (at === undefined) return;
      first = vnDay(Date.parse(at));
      state = emptyPresenceState();
      this.#presenceFrom = first;
    } else {
      first = vnDay(vnDayStart(this.#presenceThrough) + DAY_MS);
      if (first >= today) return; // nothing has closed since
      state = await this.stateAfter(this.#presenceThrough);
    }
    for (let day = first; day < today; day = vnDay(vnDayStart(day) + DAY_MS)) {
      const r = await this.#foldPresenceDay(day, state);
      const ids = Object.keys(r.fold.devices);
      await this.#placeDevices(ids);
      await this.#write(PRESENCE, day, presenceParts(r.fold, r.state, this.#placement as Placement));
      state = r.state;
      this.#presenceThrough = day;
      stats.presenceDays++;
      stats.rollupsWritten++;
      // the watermark every week (and at the end): a crash refolds at most a week
      if (stats.presenceDays % 7 === 0) await this.#saveMeta();
    }
    if (stats.presenceDays > 0) await this.#saveMeta();
  }

  /** A Vietnamese day's presence fold from the raw stream, from the state at the day before's end. */
  async #foldPresenceDay(
    day: string,
    state: PresenceState,
  ): Promise<{ fold: PresenceFold; state: PresenceState }> {
    const start = vnDayStart(day);
    const now = this.#o.clock.now();
    const end = day === vnDay(now) ? Math.max(start, now) : start + DAY_MS;
    const entries: PresenceEntry[] = await this.#o.store.presence.query({
      from: new Date(start).toISOString(),
      to: new Date(start + DAY_MS - 1).toISOString(),
      limit: ALL,
    });
    return foldPresence(state, entries, start, end);
  }

  /** The presence state at the end of a rolled-up day (refolded from the last good day when damaged). */
  async stateAfter(day: string): Promise<PresenceState> {
    const r = await this.#o.store.rollups.read(PRESENCE, day, [STATE_PART]);
    const s = r.parts[STATE_PART] as PresenceStatePart | undefined;
    if (r.found && r.damaged.length === 0 && isCurrent(s)) return (s as PresenceStatePart).s;
    return (await this.#repairPresence(day)).state;
  }

  /**
   * Refolds a damaged presence day from the state at the end of the day before (itself repaired
   * the same way when damaged; the first rolled-up day starts empty) and writes it again.
   */
  async #repairPresence(day: string): Promise<{ fold: PresenceFold; state: PresenceState }> {
    this.#o.onDamage?.({ kind: PRESENCE, key: day, parts: [] });
    this.damagedRebuilt++;
    // walk back to the last day whose state is intact
    const first = (await this.#o.store.rollups.keys(PRESENCE))[0];
    const chain: string[] = [day];
    let state = emptyPresenceState();
    for (
      let d = vnDay(vnDayStart(day) - DAY_MS);
      first !== undefined && d >= first;
      d = vnDay(vnDayStart(d) - DAY_MS)
    ) {
      const r = await this.#o.store.rollups.read(PRESENCE, d, [STATE_PART]);
      const s = r.parts[STATE_PART] as PresenceStatePart | undefined;
      if (r.found && r.damaged.length === 0 && isCurrent(s)) {
        state = (s as PresenceStatePart).s;
        break;
      }
      chain.unshift(d);
    }
    let out: { fold: PresenceFold; state: PresenceState } | undefined;
    for (const d of chain) {
      out = await this.#foldPresenceDay(d, state);
      await this.#placeDevices(Object.keys(out.fold.devices));
      await this.#write(PRESENCE, d, presenceParts(out.fold, out.state, this.#placement as Placement));
      state = out.state;
    }
    await this.#saveMeta();
    return out as { fold: PresenceFold; state: PresenceState };
  }

  /** A day's fold keeping the devices of these parts only (a repaired day holds them all). */
  #onlyParts(fold: PresenceFold, parts: readonly string[]): PresenceFold {
    const want = new Set(parts);
    const p = this.#placement ?? {};
    const devices: PresenceFold['devices'] = {};
    for (const [id, x] of Object.entries(fold.devices)) if (want.has(p[id] ?? UNPLACED_PART)) devices[id] = x;
    return { ...fold, devices };
  }

  /** A rolled-up day's presence fold for these parts (repaired from the raw stream when damaged). */
  async presenceDay(day: string, parts: readonly string[]): Promise<PresenceFold> {
    return this.#cached(`s|${day}|${parts.join(',')}`, async () => {
      if (this.#presenceFrom === null || day < this.#presenceFrom) {
        // before the first presence event: nothing was observed
        const start = vnDayStart(day);
        const none: PresenceFold = {
          startMs: start,
          endMs: start + DAY_MS,
          serverUp: [],
          serverStarts: 0,
          devices: {},
        };
        return { value: none, bytes: 200 };
      }
      const r = await this.#o.store.rollups.read(PRESENCE, day, [SERVER_PART, ...parts]);
      const server = r.parts[SERVER_PART] as PresenceServerPart | undefined;
      const ok = r.found && r.damaged.length === 0 && Object.values(r.parts).every(isCurrent) && server;
      const fold = ok
        ? presenceFoldOf(
            server,
            parts.map((p) => r.parts[p]).filter((x): x is PresencePart => x !== undefined),
          )
        : this.#onlyParts((await this.#repairPresence(day)).fold, parts);
      return { value: fold, bytes: 200 + Object.keys(fold.devices).length * 200 + fold.serverUp.length * 48 };
    });
  }

  /**
   * A rolled-up day's presence totals per part (`SUM_PART`) or its clamp list (`CLAMP_PART`);
   * repaired from the raw stream when damaged, computed from the device parts for a rollup written
   * before them.
   */
  async #presenceMeta<T extends PresenceSum | PresenceClamp>(day: string, name: string): Promise<T['u']> {
    if (this.#presenceFrom === null || day < this.#presenceFrom) return {};
    const { rollups } = this.#o.store;
    const r = await rollups.read(PRESENCE, day, [name]);
    const got = r.parts[name] as T | undefined;
    if (r.found && r.damaged.length === 0 && got !== undefined && isCurrent(got)) return got.u;
    if (r.found && r.damaged.length === 0 && got === undefined) {
      // written before the totals: from the device parts (repaired when one is damaged)
      const all = await rollups.read(PRESENCE, day);
      const server = all.parts[SERVER_PART] as PresenceServerPart | undefined;
      if (all.damaged.length === 0 && server && Object.values(all.parts).every(isCurrent)) {
        const x = presenceSumOf(server, all.parts);
        return (name === SUM_PART ? x.sum.u : x.clamp.u) as T['u'];
      }
    }
    await this.#repairPresence(day);
    const again = await rollups.read(PRESENCE, day, [name]);
    const fixed = again.parts[name] as T | undefined;
    return fixed && isCurrent(fixed) ? fixed.u : {};
  }

  /** A rolled-up day's presence totals of every part (`PresencePartSum`). */
  async presenceSum(day: string): Promise<PresenceSum['u']> {
    return this.#cached(`t|${day}`, async () => {
      const u = await this.#presenceMeta<PresenceSum>(day, SUM_PART);
      let n = 0;
      for (const x of Object.values(u)) n += x.ids.length;
      return { value: u, bytes: 200 + n * 60 };
    });
  }

  /** Per part, the devices of a rolled-up day whose uptime may be clamped (read device by device). */
  async presenceClamp(day: string): Promise<PresenceClamp['u']> {
    return this.#cached(`c|${day}`, async () => {
      const u = await this.#presenceMeta<PresenceClamp>(day, CLAMP_PART);
      let n = 0;
      for (const x of Object.values(u)) n += x.length;
      return { value: u, bytes: 200 + n * 60 };
    });
  }

  /** Raw presence folds of the days after the watermark up to `endMs` (today's up to now). */
  async openPresence(fromDay: string, endMs: number): Promise<PresenceFold[]> {
    const out: PresenceFold[] = [];
    const now = this.#o.clock.now();
    const first =
      this.#presenceThrough === null ? fromDay : vnDay(vnDayStart(this.#presenceThrough) + DAY_MS);
    // a period that ends before the watermark has no open day (and needs no state)
    if (vnDayStart(first) >= Math.min(endMs, now + 1)) return out;
    let state =
      this.#presenceThrough === null ? emptyPresenceState() : await this.stateAfter(this.#presenceThrough);
    for (let t = vnDayStart(first); t < Math.min(endMs, now + 1); t += DAY_MS) {
      const r = await this.#foldPresenceDay(vnDay(t), state);
      state = r.state;
      if (vnDay(t) >= fromDay) out.push(r.fold);
    }
    return out;
  }
}
