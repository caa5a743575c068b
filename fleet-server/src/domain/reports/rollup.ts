/**
 * Report rollups (pure): what the reports keep of a day, split in parts (one per unit, by where a
 * device was first seen: its placement), so that a report reads the parts of its own units for
 * whole days instead of the raw proof and presence lines.
 *
 * - proofs, one rollup per Vietnamese event day: per device, the same figures as a fold of the raw
 *   proofs (`DeviceDayProofs`), merged over every reception window (UTC day of the stream) that
 *   held proofs about that day; the windows merged are listed in the part, so a merge is never
 *   applied twice.
 * - presence, one rollup per Vietnamese day: the server's intervals (`SERVER_PART`), the state at
 *   the day's end (`STATE_PART`, to fold the next day) and per device its uptime fold.
 *
 * Merging is exact: slot keys and emergency bundles are sets, counts and milliseconds integers.
 */
import type { DeviceDayProofs, ProofFold } from './fold.js';
import { type DeviceUptimeFold, exceedsDay, type PresenceFold, type PresenceState } from './uptime.js';

export const ROLLUP_FORMAT = 1;
export const SERVER_PART = '~server';
export const STATE_PART = '~state';
/** The part of devices the registry does not know (deleted since). */
export const UNPLACED_PART = '~none';

/** A device's day, compact: [played, displayed, air, completed, failed, interrupted, skipped, emergency]. */
export type PackedDay = [
  string[],
  string[],
  Record<string, [number, number]>,
  number,
  number,
  number,
  number,
  string[],
];

export interface ProofPart {
  v: number;
  /** Reception windows (UTC days) merged into this part, in order. */
  w: string[];
  /** Proofs with an outcome counted (completed, failed, interrupted, skipped). */
  n: number;
  d: Record<string, PackedDay>;
}

export const packDay = (x: DeviceDayProofs): PackedDay => [
  x.played,
  x.displayed,
  x.air,
  x.completed,
  x.failed,
  x.interrupted,
  x.skipped,
  x.emergency,
];

export const unpackDay = (p: PackedDay): DeviceDayProofs => ({
  played: p[0],
  displayed: p[1],
  air: p[2],
  completed: p[3],
  failed: p[4],
  interrupted: p[5],
  skipped: p[6],
  emergency: p[7],
});

const union = (into: string[], more: readonly string[]) => {
  for (const k of more) if (!into.includes(k)) into.push(k);
};

/** Adds `b` into `a` (mutates a): what a report sees from both windows. */
export function mergeDay(a: DeviceDayProofs, b: DeviceDayProofs): DeviceDayProofs {
  union(a.played, b.played);
  union(a.displayed, b.displayed);
  union(a.emergency, b.emergency);
  for (const [k, [ms, n]] of Object.entries(b.air)) {
    const x = a.air[k];
    if (x) {
      x[0] += ms;
      x[1] += n;
    } else a.air[k] = [ms, n];
  }
  a.completed += b.completed;
  a.failed += b.failed;
  a.interrupted += b.interrupted;
  a.skipped += b.skipped;
  return a;
}

const cloneDay = (x: DeviceDayProofs): DeviceDayProofs => ({
  ...x,
  played: [...x.played],
  displayed: [...x.displayed],
  emergency: [...x.emergency],
  air: Object.fromEntries(Object.entries(x.air).map(([k, v]) => [k, [v[0], v[1]]])),
});

export type Placement = Record<string, string>;

/**
 * The part of each device (mutates `placement`): where it was first placed, else its unit now.
 * Returns whether a device was placed.
 */
export function place(
  placement: Placement,
  deviceIds: Iterable<string>,
  unitOf: (id: string) => string | undefined,
): boolean {
  let added = false;
  for (const id of deviceIds) {
    if (placement[id] !== undefined) continue;
    placement[id] = unitOf(id) ?? UNPLACED_PART;
    added = true;
  }
  return added;
}

/**
 * Merges one reception window's fold into the event days' parts (mutates and returns `days`: event
 * day → part → ProofPart). A part that already lists the window is left as it is.
 */
export function mergeWindow(
  days: Map<string, Record<string, ProofPart>>,
  window: string,
  fold: ProofFold,
  placement: Placement,
): Map<string, Record<string, ProofPart>> {
  for (const [day, devices] of Object.entries(fold.days)) {
    let parts = days.get(day);
    if (!parts) {
      parts = {};
      days.set(day, parts);
    }
    const touched = new Set<string>();
    for (const [id, x] of Object.entries(devices)) {
      const name = placement[id] ?? UNPLACED_PART;
      let part = parts[name];
      if (!part) {
        part = { v: ROLLUP_FORMAT, w: [], n: 0, d: {} };
        parts[name] = part;
      }
      if (part.w.includes(window)) continue;
      touched.add(name);
      const have = part.d[id];
      if (have) part.d[id] = packDay(mergeDay(unpackDay(have), x));
      else part.d[id] = packDay(cloneDay(x));
      part.n += x.completed + x.failed + x.interrupted + x.skipped;
    }
    for (const name of touched) (parts[name] as ProofPart).w.push(window);
  }
  return days;
}

/** The device days of some parts of one event day, as one map (what a fold gives for that day). */
export function dayOfParts(parts: Iterable<ProofPart>): Record<string, DeviceDayProofs> {
  const out: Record<string, DeviceDayProofs> = {};
  for (const p of parts) for (const [id, x] of Object.entries(p.d)) out[id] = unpackDay(x);
  return out;
}

// ---------------------------------------------------------------- unit totals
/**
 * The part holding the totals of every other part of an event day's proof rollup (`ProofSum`), so
 * that a report over many units reads one small part per day instead of every device's figures.
 */
export const SUM_PART = '~sum';

/**
 * A part's totals for a day: its devices (`ids`), plays completed, failed and interrupted, airtime
 * by "category|lang", and per slot key (or emergency bundle) the devices, as indexes into `ids`,
 * that played, displayed (or heard) it. A report can use them when every device of the part is in
 * its scope and counted in one row (else it reads the part's device figures).
 */
export interface PartSum {
  ids: string[];
  c: number;
  f: number;
  i: number;
  air: Record<string, [number, number]>;
  pl: Record<string, number[]>;
  dp: Record<string, number[]>;
  em: Record<string, number[]>;
}

export interface ProofSum {
  v: number;
  u: Record<string, PartSum>;
}

/** The totals of a day's parts (any `SUM_PART` among them is left out). */
export function sumOfParts(parts: Readonly<Record<string, ProofPart>>): ProofSum {
  const u: Record<string, PartSum> = {};
  const push = (m: Record<string, number[]>, k: string, n: number) => {
    const l = m[k];
    if (l) l.push(n);
    else m[k] = [n];
  };
  for (const [name, p] of Object.entries(parts)) {
    if (name === SUM_PART) continue;
    const s: PartSum = { ids: [], c: 0, f: 0, i: 0, air: {}, pl: {}, dp: {}, em: {} };
    for (const [id, x] of Object.entries(p.d)) {
      const n = s.ids.push(id) - 1;
      s.c += x[3];
      s.f += x[4];
      s.i += x[5];
      for (const [k, [ms, plays]] of Object.entries(x[2])) {
        const a = s.air[k];
        if (a) {
          a[0] += ms;
          a[1] += plays;
        } else s.air[k] = [ms, plays];
      }
      for (const k of x[0]) push(s.pl, k, n);
      for (const k of x[1]) push(s.dp, k, n);
      for (const b of x[7]) push(s.em, b, n);
    }
    u[name] = s;
  }
  return { v: ROLLUP_FORMAT, u };
}

// ---------------------------------------------------------------- presence

export interface PresenceServerPart {
  v: number;
  startMs: number;
  endMs: number;
  serverUp: [number, number][];
  serverStarts: number;
}

/** A device's uptime fold, compact: [onlineMs, grace, outages, outageMs, longestOutageMs]. */
export type PackedUptime = [number, [number, number][], number, number, number];

export interface PresencePart {
  v: number;
  d: Record<string, PackedUptime>;
}

/** Splits a day's presence fold and end state into the parts of its rollup. */
export interface PresenceStatePart {
  v: number;
  s: PresenceState;
}

/**
 * A part's presence totals for a day: its devices (`ids`), reconnect grace (`g`), online time
 * (`on`), outages (`o`), their length (`om`) and the longest (`lo`), in ms. A report adds them for
 * a day inside its period when every device of the part is counted in one row from the period's
 * start, and none of them may have its uptime clamped (`CLAMP_PART`).
 */
export interface PresencePartSum {
  ids: string[];
  g: number;
  on: number;
  o: number;
  om: number;
  lo: number;
}

export interface PresenceSum {
  v: number;
  u: Record<string, PresencePartSum>;
}

/**
 * The part of a presence rollup naming, per part, the devices whose online time that day exceeds
 * the time they could be observed (their uptime may be clamped over a period): a report reads such
 * a part device by device over its whole period. Small: no device in an ordinary day.
 */
export const CLAMP_PART = '~clamp';

export interface PresenceClamp {
  v: number;
  u: Record<string, string[]>;
}

/** The parts of a presence rollup that are not a unit's devices. */
const PRESENCE_META = new Set([SERVER_PART, STATE_PART, SUM_PART, CLAMP_PART]);

/** The presence totals and clamp list of a day's device parts (the other parts are left out). */
export function presenceSumOf(
  server: Pick<PresenceServerPart, 'serverUp'>,
  parts: Readonly<Record<string, unknown>>,
): { sum: PresenceSum; clamp: PresenceClamp } {
  let up = 0;
  for (const [a, b] of server.serverUp) up += Math.max(0, b - a);
  const sum: PresenceSum = { v: ROLLUP_FORMAT, u: {} };
  const clamp: PresenceClamp = { v: ROLLUP_FORMAT, u: {} };
  for (const [name, value] of Object.entries(parts)) {
    if (PRESENCE_META.has(name)) continue;
    const s: PresencePartSum = { ids: [], g: 0, on: 0, o: 0, om: 0, lo: 0 };
    for (const [id, x] of Object.entries((value as PresencePart).d)) {
      s.ids.push(id);
      for (const [a, b] of x[1]) s.g += Math.max(0, b - a);
      s.on += x[0];
      s.o += x[2];
      s.om += x[3];
      s.lo = Math.max(s.lo, x[4]);
      if (exceedsDay({ onlineMs: x[0], grace: x[1] }, up)) {
        const list = clamp.u[name] ?? [];
        list.push(id);
        clamp.u[name] = list;
      }
    }
    sum.u[name] = s;
  }
  return { sum, clamp };
}

export function presenceParts(
  fold: PresenceFold,
  state: PresenceState,
  placement: Placement,
): Record<string, PresenceServerPart | PresenceStatePart | PresencePart | PresenceSum | PresenceClamp> {
  const out: Record<
    string,
    PresenceServerPart | PresenceStatePart | PresencePart | PresenceSum | PresenceClamp
  > = {
    [SERVER_PART]: {
      v: ROLLUP_FORMAT,
      startMs: fold.startMs,
      endMs: fold.endMs,
      serverUp: fold.serverUp,
      serverStarts: fold.serverStarts,
    },
    [STATE_PART]: { v: ROLLUP_FORMAT, s: state },
  };
  for (const [id, d] of Object.entries(fold.devices)) {
    const name = placement[id] ?? UNPLACED_PART;
    let part = out[name] as PresencePart | undefined;
    if (!part) {
      part = { v: ROLLUP_FORMAT, d: {} };
      out[name] = part;
    }
    part.d[id] = [d.onlineMs, d.grace, d.outages, d.outageMs, d.longestOutageMs];
  }
  const { sum, clamp } = presenceSumOf(fold, out);
  out[SUM_PART] = sum;
  out[CLAMP_PART] = clamp;
  return out;
}

/** A day's presence fold from its server part and some device parts. */
export function presenceFoldOf(server: PresenceServerPart, parts: Iterable<PresencePart>): PresenceFold {
  const devices: Record<string, DeviceUptimeFold> = {};
  for (const p of parts)
    for (const [id, x] of Object.entries(p.d))
      devices[id] = { onlineMs: x[0], grace: x[1], outages: x[2], outageMs: x[3], longestOutageMs: x[4] };
  return {
    startMs: server.startMs,
    endMs: server.endMs,
    serverUp: server.serverUp,
    serverStarts: server.serverStarts,
    devices,
  };
}

/** Whether a stored value is a part of the current format (anything else is rebuilt). */
export const isCurrent = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && (x as { v?: unknown }).v === ROLLUP_FORMAT;
