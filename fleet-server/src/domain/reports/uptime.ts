/**
 * Uptime from presence intervals (pure): a station is up while its MQTT connection is open. The
 * server's own downtime is unknown time, never counted against a station: a clean stop closes every
 * interval; after a crash (a start with no stop before it) the intervals close at the last "alive"
 * mark. After a start, a station that reconnects within the grace period is not counted offline
 * for the seconds it took to reconnect; one that does not reconnect is offline from the start.
 *
 * The fold is done window by window (one UTC day of the stream at a time) with a state carried
 * over, so closed days can be cached and only today re-read.
 */
import type { PresenceEntry } from '../model.js';

export interface PresenceState {
  serverUp: boolean;
  /** Last instant the server was known to be running (start, alive mark or event), ms. */
  lastMarkMs: number | null;
  /** Devices with an open connection: since when (ms). */
  connected: Record<string, number>;
  /** Devices whose connection closed while the server was up: since when (ms). */
  disconnectedAt: Record<string, number>;
  /** The last server start (ms) and the devices heard from since then (grace accounting). */
  startMs: number | null;
  heardSinceStart: string[];
}

export const emptyPresenceState = (): PresenceState => ({
  serverUp: false,
  lastMarkMs: null,
  connected: {},
  disconnectedAt: {},
  startMs: null,
  heardSinceStart: [],
});

export interface DeviceUptimeFold {
  onlineMs: number;
  /** Time removed from the known time: reconnect grace after server starts, [a, b). */
  grace: [number, number][];
  /** Outages that ended in this window (reconnects after a disconnect), and their lengths. */
  outages: number;
  outageMs: number;
  longestOutageMs: number;
}

export interface PresenceFold {
  startMs: number;
  endMs: number;
  /** Intervals [a, b) in which the server was running. */
  serverUp: [number, number][];
  serverStarts: number;
  devices: Record<string, DeviceUptimeFold>;
}

export const PRESENCE_DEFAULTS = {
  /** A station reconnecting within this time after a server start was not offline meanwhile. */
  reconnectGraceMs: 120_000,
};

/**
 * Folds the events of [startMs, endMs) (sorted by time) onto `init`. The returned state is the one
 * at endMs: open intervals are counted up to endMs and carried on.
 */
export function foldPresence(
  init: PresenceState,
  events: readonly PresenceEntry[],
  startMs: number,
  endMs: number,
  opts: { reconnectGraceMs?: number } = {},
): { state: PresenceState; fold: PresenceFold } {
  const grace = opts.reconnectGraceMs ?? PRESENCE_DEFAULTS.reconnectGraceMs;
  const s: PresenceState = structuredClone(init);
  const heard = new Set(s.heardSinceStart);
  const fold: PresenceFold = { startMs, endMs, serverUp: [], serverStarts: 0, devices: {} };
  const dev = (id: string): DeviceUptimeFold => {
    let d = fold.devices[id];
    if (!d) {
      d = { onlineMs: 0, grace: [], outages: 0, outageMs: 0, longestOutageMs: 0 };
      fold.devices[id] = d;
    }
    return d;
  };
  let upSince: number | null = s.serverUp ? startMs : null;
  const closeAll = (t: number) => {
    for (const [id, since] of Object.entries(s.connected))
      dev(id).onlineMs += Math.max(0, t - Math.max(since, startMs));
    s.connected = {};
    s.disconnectedAt = {};
    if (upSince !== null && t > upSince) fold.serverUp.push([upSince, t]);
    upSince = null;
    s.serverUp = false;
  };
  for (const e of events) {
    const t = Math.min(Math.max(Date.parse(e.at), startMs), endMs);
    if (e.event === 'server-start') {
      // a start after a start with no stop between: the server died after its last mark
      if (s.serverUp) closeAll(Math.max(startMs, s.lastMarkMs ?? t));
      s.serverUp = true;
      upSince = t;
      s.startMs = t;
      heard.clear();
      fold.serverStarts++;
      s.lastMarkMs = t;
      continue;
    }
    if (e.event === 'server-stop') {
      closeAll(t);
      s.lastMarkMs = t;
      continue;
    }
    if (!s.serverUp) {
      // a device event with no start seen (the stream began mid-run): the server was up
      s.serverUp = true;
      upSince = t;
    }
    s.lastMarkMs = t;
    if (e.event === 'server-alive' || !e.deviceId) continue;
    const id = e.deviceId;
    if (e.event === 'connect') {
      if (s.connected[id] !== undefined) continue;
      const down = s.disconnectedAt[id];
      if (down !== undefined) {
        const d = dev(id);
        const len = t - down;
        d.outages++;
        d.outageMs += len;
        d.longestOutageMs = Math.max(d.longestOutageMs, len);
        delete s.disconnectedAt[id];
      } else if (s.startMs !== null && !heard.has(id) && t - s.startMs <= grace) {
        // reconnected after the server's start, within the grace: not the station's outage
        dev(id).grace.push([Math.max(s.startMs, startMs), t]);
      }
      heard.add(id);
      s.connected[id] = t;
    } else {
      heard.add(id);
      const since = s.connected[id];
      if (since === undefined) continue;
      dev(id).onlineMs += t - Math.max(since, startMs);
      delete s.connected[id];
      s.disconnectedAt[id] = t;
    }
  }
  // carry open intervals to the window's end
  for (const [id, since] of Object.entries(s.connected))
    dev(id).onlineMs += Math.max(0, endMs - Math.max(since, startMs));
  if (upSince !== null && endMs > upSince) fold.serverUp.push([upSince, endMs]);
  s.heardSinceStart = [...heard];
  return { state: s, fold };
}

export interface DeviceUptime {
  deviceId: string;
  /** Time the server could observe the station (server up, after its enrolment), ms. */
  knownMs: number;
  onlineMs: number;
  /** onlineMs / knownMs, or null when nothing could be observed. */
  uptime: number | null;
  outages: number;
  outageMs: number;
  longestOutageMs: number;
}

function overlap(iv: readonly [number, number][], a: number, b: number): number {
  let n = 0;
  for (const [x, y] of iv) n += Math.max(0, Math.min(y, b) - Math.max(x, a));
  return n;
}

/**
 * What a group of devices adds up over some days, given as totals (a rollup part's day): reconnect
 * grace, online time, outages and their length, the longest. Exact where no device of the group
 * has its uptime clamped over the period (online beyond the time it could be observed): see
 * `UptimeAccumulator.exceeding`.
 */
export interface UptimeTotals {
  graceMs: number;
  onlineMs: number;
  outages: number;
  outageMs: number;
  longestOutageMs: number;
}

/**
 * Per device uptime over [startMs, endMs), added up fold by fold (one day at a time, so a long
 * period never holds every fold). A device counts from `since` (its approval or enrolment) when
 * that is later than the start. Every sum is of whole milliseconds: the order of the folds does not
 * change the result.
 *
 * The server's time up is kept once per distinct start instant (most devices share the period's
 * start), a fold's devices per device. Devices of a day may instead come as totals of their group
 * (`addTotals`), kept per group: a device's own figures are then partial, which changes nothing
 * where its uptime is never clamped (its known time ≥ its online time on every day, so over any
 * days): the caller reads device by device every day of the devices where it may be (`exceeding`,
 * and those counted from a later instant than the start).
 */
export class UptimeAccumulator {
  readonly #devices: { id: string; from: number }[];
  readonly #index = new Map<string, number>();
  /** Per device: [grace overlap, online, outages, outage ms, longest]. */
  readonly #acc: Float64Array;
  /** Distinct start instants, the server's time up seen from each, and each device's. */
  readonly #froms: number[] = [];
  readonly #server: number[] = [];
  readonly #fromOf: Int32Array;
  readonly #totals = new Map<string, UptimeTotals>();

  constructor(
    devices: readonly { id: string; since: number }[],
    private readonly startMs: number,
    private readonly endMs: number,
  ) {
    this.#devices = devices.map((d) => ({ id: d.id, from: Math.max(startMs, d.since) }));
    this.#acc = new Float64Array(devices.length * 5);
    this.#fromOf = new Int32Array(devices.length);
    const at = new Map<number, number>();
    this.#devices.forEach((d, i) => {
      this.#index.set(d.id, i);
      let k = at.get(d.from);
      if (k === undefined) {
        k = this.#froms.push(d.from) - 1;
        this.#server.push(0);
        at.set(d.from, k);
      }
      this.#fromOf[i] = k;
    });
  }

  #inside(f: Pick<PresenceFold, 'startMs' | 'endMs'>): boolean {
    return f.endMs > this.startMs && f.startMs < this.endMs;
  }

  /** A fold: the server's time up, and its devices' figures. */
  add(f: PresenceFold): void {
    this.addServer(f);
    this.addDevices(f);
  }

  /** A fold's server time up (once per day, whichever way its devices come). */
  addServer(f: Pick<PresenceFold, 'startMs' | 'endMs' | 'serverUp'>): void {
    if (!this.#inside(f)) return;
    for (let k = 0; k < this.#froms.length; k++)
      this.#server[k] =
        (this.#server[k] as number) + overlap(f.serverUp, this.#froms[k] as number, this.endMs);
  }

  /** A fold's devices' figures (devices not counted here are left out). */
  addDevices(f: PresenceFold): void {
    if (!this.#inside(f)) return;
    const acc = this.#acc;
    const end = this.endMs;
    for (const id in f.devices) {
      const i = this.#index.get(id);
      if (i === undefined) continue;
      const x = f.devices[id] as DeviceUptimeFold;
      const o = i * 5;
      acc[o] = (acc[o] as number) + overlap(x.grace, (this.#devices[i] as { from: number }).from, end);
      acc[o + 1] = (acc[o + 1] as number) + x.onlineMs;
      acc[o + 2] = (acc[o + 2] as number) + x.outages;
      acc[o + 3] = (acc[o + 3] as number) + x.outageMs;
      acc[o + 4] = Math.max(acc[o + 4] as number, x.longestOutageMs);
    }
  }

  /**
   * A group's totals for a day whose devices all count from the period's start or before, and which
   * lies inside the period (the caller checks both): added to the group's figures (`groupResult`).
   */
  addTotals(group: string, t: UptimeTotals): void {
    const g = this.#totals.get(group);
    if (!g) {
      this.#totals.set(group, { ...t });
      return;
    }
    g.graceMs += t.graceMs;
    g.onlineMs += t.onlineMs;
    g.outages += t.outages;
    g.outageMs += t.outageMs;
    g.longestOutageMs = Math.max(g.longestOutageMs, t.longestOutageMs);
  }

  /** The totals added for a group. */
  groupTotals(group: string): UptimeTotals | undefined {
    return this.#totals.get(group);
  }

  /** Whether a device counts from a later instant than the period's start (enrolled or approved during it). */
  countsLate(id: string): boolean {
    const i = this.#index.get(id);
    return i !== undefined && (this.#devices[i] as { from: number }).from > this.startMs;
  }

  /**
   * The devices of a fold whose online time exceeds the time they could be observed in it (their
   * uptime may be clamped over the period: such a device must be read device by device).
   */
  exceeding(f: PresenceFold): string[] {
    if (!this.#inside(f)) return [];
    const out: string[] = [];
    for (const id in f.devices) {
      const i = this.#index.get(id);
      if (i === undefined) continue;
      const from = (this.#devices[i] as { from: number }).from;
      const x = f.devices[id] as DeviceUptimeFold;
      const known = overlap(f.serverUp, from, this.endMs) - overlap(x.grace, from, this.endMs);
      if (x.onlineMs > known) out.push(id);
    }
    return out;
  }

  result(): DeviceUptime[] {
    const acc = this.#acc;
    return this.#devices.map((d, i) => {
      const o = i * 5;
      const knownMs = (this.#server[this.#fromOf[i] as number] as number) - (acc[o] as number);
      const onlineMs = Math.min(acc[o + 1] as number, Math.max(0, knownMs));
      return {
        deviceId: d.id,
        knownMs: Math.max(0, knownMs),
        onlineMs,
        uptime: knownMs > 0 ? onlineMs / knownMs : null,
        outages: acc[o + 2] as number,
        outageMs: acc[o + 3] as number,
        longestOutageMs: acc[o + 4] as number,
      };
    });
  }
}

/** Whether a day's device figures would have a device's uptime clamped (online beyond observed). */
export function exceedsDay(x: Pick<DeviceUptimeFold, 'onlineMs' | 'grace'>, serverUpMs: number): boolean {
  let grace = 0;
  for (const [a, b] of x.grace) grace += Math.max(0, b - a);
  return x.onlineMs > serverUpMs - grace;
}

/** Per device uptime over [startMs, endMs) from the folds of the windows inside it. */
export function uptimeOf(
  folds: readonly PresenceFold[],
  devices: readonly { id: string; since: number }[],
  startMs: number,
  endMs: number,
): DeviceUptime[] {
  const acc = new UptimeAccumulator(devices, startMs, endMs);
  for (const f of folds) acc.add(f);
  return acc.result();
}

/** Approximate heap bytes of a day's presence fold and the state after it (cache bounding). */
export function presenceFoldBytes(r: { fold: PresenceFold; state: PresenceState }): number {
  let n = 200 + r.fold.serverUp.length * 48;
  for (const [id, d] of Object.entries(r.fold.devices)) n += 160 + id.length + d.grace.length * 48;
  n += (Object.keys(r.state.connected).length + Object.keys(r.state.disconnectedAt).length) * 56;
  for (const id of r.state.heardSinceStart) n += 32 + id.length;
  return n;
}
