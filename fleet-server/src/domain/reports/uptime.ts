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
 * Per device uptime over [startMs, endMs), added up fold by fold (one day at a time, so a long
 * period never holds every fold). A device counts from `since` (its approval or enrolment) when
 * that is later than the start. Every sum is of whole milliseconds: the order of the folds does not
 * change the result.
 */
export class UptimeAccumulator {
  readonly #devices: { id: string; from: number }[];
  /** Per device: [server-up overlap − grace overlap, online, outages, outage ms, longest]. */
  readonly #acc: Float64Array;

  constructor(
    devices: readonly { id: string; since: number }[],
    private readonly startMs: number,
    private readonly endMs: number,
  ) {
    this.#devices = devices.map((d) => ({ id: d.id, from: Math.max(startMs, d.since) }));
    this.#acc = new Float64Array(devices.length * 5);
  }

  add(f: PresenceFold): void {
    if (!(f.endMs > this.startMs && f.startMs < this.endMs)) return;
    const acc = this.#acc;
    const end = this.endMs;
    for (let i = 0; i < this.#devices.length; i++) {
      const d = this.#devices[i] as { id: string; from: number };
      const o = i * 5;
      acc[o] = (acc[o] as number) + overlap(f.serverUp, d.from, end);
      const x = f.devices[d.id];
      if (!x) continue;
      acc[o] = (acc[o] as number) - overlap(x.grace, d.from, end);
      acc[o + 1] = (acc[o + 1] as number) + x.onlineMs;
      acc[o + 2] = (acc[o + 2] as number) + x.outages;
      acc[o + 3] = (acc[o + 3] as number) + x.outageMs;
      acc[o + 4] = Math.max(acc[o + 4] as number, x.longestOutageMs);
    }
  }

  result(): DeviceUptime[] {
    const acc = this.#acc;
    return this.#devices.map((d, i) => {
      const o = i * 5;
      const knownMs = acc[o] as number;
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
