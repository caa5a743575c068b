/**
 * A worker thread holding a share of the light stations (see light-stations.ts): mqtt.js clients
 * that receive an emergency the way a station does, without the rest of the agent. Two sets of
 * clients can live side by side in one worker: `raw` ones (a plain subscriber on a raw aedes
 * broker: the time a message of that size takes to arrive) and `station` ones (a device enrolled
 * with the real fleet server, its own credentials and subscriptions: each client parses the
 * message, verifies the signed manifest against the trust policy it got at enrolment (checked
 * against the pinned root) and checks every blob's size and SHA-256, from the message or fetched
 * over HTTP, before it counts the audio as ready).
 *
 * Times go to the main thread through shared memory: `times[set][index]` = absolute time
 * (performance.timeOrigin + performance.now(), the same clock in every thread of the process)
 * when that client had the message (raw) or its audio verified (station); counters per set count
 * arrivals and refusals. The main thread zeroes a set before each round; a client records only
 * its first arrival of the round.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import {
  deviceTopic,
  EmergencySchema,
  manifestBlobs,
  parseTopic,
  type Status,
  type TrustPolicy,
  verifyManifest,
  verifyTrustPolicy,
} from '@loa/protocol';
import { connectAsync, type MqttClient } from 'mqtt';

export const SETS = ['raw', 'station'] as const;
export type LightSet = (typeof SETS)[number];

/** Shared counters: per set, [arrived, refused]; then the size of the last station message. */
export const COUNTERS_PER_SET = 2;
export const LAST_BYTES_SLOT = SETS.length * COUNTERS_PER_SET;
export const COUNTER_SLOTS = LAST_BYTES_SLOT + 1;

export interface LightClientSpec {
  /** Position in the pool (the slot in the shared time array). */
  index: number;
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  subscriptions: string[];
}

export type WorkerRequest =
  | {
      type: 'init';
      times: Record<LightSet, SharedArrayBuffer>;
      /** Per station client: when its emergency message arrived (before any check). */
      received: SharedArrayBuffer;
      /** Per station client: how long its own checks took (ms), from their start to audio ready. */
      checks: SharedArrayBuffer;
      counters: SharedArrayBuffer;
    }
  | {
      type: 'connect';
      set: LightSet;
      clients: LightClientSpec[];
      /** For `station`: the trust policy from enrolment and the pinned root keys (PEM). */
      trust?: { policy: unknown; rootPems: string[] };
    }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'connected'; set: LightSet; count: number }
  | { type: 'closed' }
  | { type: 'error'; message: string }
  /** A refusal's code, once per distinct code (so a run says why stations refused). */
  | { type: 'refused'; set: LightSet; code: string; message: string };

let times: Record<LightSet, Float64Array> | undefined;
let received: Float64Array | undefined;
let checks: Float64Array | undefined;

/**
 * The stations' checks waiting in this thread, run one per turn of the event loop: between two
 * checks the loop reads the sockets again, so a station's message is taken in (and its arrival
 * noted) when it comes, not after the checks of every station that was ahead of it in the thread.
 * In the field each station has a CPU of its own; here a few hundred share one thread.
 */
const pending: (() => void)[] = [];
let draining = false;
function runLater(fn: () => void): void {
  pending.push(fn);
  if (draining) return;
  draining = true;
  setImmediate(drain);
}
function drain(): void {
  pending.shift()?.();
  if (pending.length > 0) setImmediate(drain);
  else draining = false;
}
let counters: Int32Array | undefined;
const clients: MqttClient[] = [];
const reportedCodes = new Set<string>();

const now = () => performance.timeOrigin + performance.now();

function arrived(set: LightSet, index: number, at: number): void {
  if (!times || !counters) return;
  const t = times[set];
  if (t[index] !== 0) return;
  t[index] = at;
  Atomics.add(counters, SETS.indexOf(set) * COUNTERS_PER_SET, 1);
}

function refused(set: LightSet, index: number, e: unknown): void {
  if (!times || !counters) return;
  const t = times[set];
  if (t[index] !== 0) return;
  t[index] = -1;
  Atomics.add(counters, SETS.indexOf(set) * COUNTERS_PER_SET + 1, 1);
  const code = (e as { code?: string }).code ?? (e as Error).name ?? 'ERROR';
  if (!reportedCodes.has(code)) {
    reportedCodes.add(code);
    parentPort?.postMessage({ type: 'refused', set, code, message: String((e as Error).message ?? e) });
  }
}

class BlobMismatch extends Error {
  readonly code = 'BLOB_MISMATCH';
}

/** What a station does with an emergency message before its audio can play. */
async function audioReady(
  payload: Buffer,
  policy: TrustPolicy,
  auth: string | undefined,
  lastId: { id?: string },
): Promise<Status | undefined> {
  const msg = EmergencySchema.parse(JSON.parse(payload.toString('utf8')));
  // a re-send of the emergency already handled (escalation, QoS 1 redelivery)
  if (msg.manifest.id === lastId.id) return undefined;
  const v = verifyManifest(msg.manifest, { trust: policy, now: new Date() });
  const carried = new Map((msg.inline ?? []).map((b) => [b.sha256, b.data] as const));
  for (const b of manifestBlobs(v.manifest)) {
    const inline = carried.get(b.sha256);
    let data: Buffer;
    if (inline !== undefined) data = Buffer.from(inline, 'base64');
    else {
      const res = await fetch(`${msg.blobBase.replace(/\/+$/, '')}/${b.sha256}`, {
        headers: auth ? { authorization: auth } : {},
      });
      if (!res.ok) throw new BlobMismatch(`blob ${b.sha256}: HTTP ${res.status}`);
      data = Buffer.from(await res.arrayBuffer());
    }
    if (data.length !== b.size || createHash('sha256').update(data).digest('hex') !== b.sha256)
      throw new BlobMismatch(`blob ${b.sha256} does not match the signed manifest`);
  }
  lastId.id = msg.manifest.id;
  const m = v.manifest;
  return {
    bundleId: m.id,
    channel: m.channel,
    version: m.version,
    state: 'verified',
    at: new Date().toISOString(),
  };
}

async function connect(req: Extract<WorkerRequest, { type: 'connect' }>): Promise<number> {
  let policy: TrustPolicy | undefined;
  if (req.set === 'station') {
    if (!req.trust) throw new Error('station clients need a trust policy');
    policy = verifyTrustPolicy(req.trust.policy, {
      pinned: { keys: req.trust.rootPems.map((p) => createPublicKey(p)) },
      now: new Date(),
    });
  }
  const batch = 25;
  for (let i = 0; i < req.clients.length; i += batch) {
    const made = await Promise.all(
      req.clients.slice(i, i + batch).map(async (spec) => {
        const c = await connectAsync(spec.url, {
          clientId: spec.clientId,
          ...(spec.username !== undefined ? { username: spec.username } : {}),
          ...(spec.password !== undefined ? { password: spec.password } : {}),
          reconnectPeriod: 0,
          connectTimeout: 60_000,
          keepalive: 300,
        });
        const auth =
          spec.username !== undefined
            ? `Basic ${Buffer.from(`${spec.username}:${spec.password ?? ''}`).toString('base64')}`
            : undefined;
        const lastId: { id?: string } = {};
        if (req.set === 'raw') c.on('message', () => arrived('raw', spec.index, now()));
        else
          c.on('message', (topic, payload) => {
            const at = now();
            if (parseTopic(topic)?.kind !== 'emergency') return;
            if (received && received[spec.index] === 0) received[spec.index] = at;
            if (counters) Atomics.store(counters, LAST_BYTES_SLOT, payload.length);
            runLater(() => {
              const start = now();
              audioReady(payload, policy as TrustPolicy, auth, lastId).then(
                (status) => {
                  if (!status) return;
                  const ready = now();
                  if (checks && times?.station[spec.index] === 0) checks[spec.index] = ready - start;
                  arrived('station', spec.index, ready);
                  // as a station confirms it (the server re-sends to the stations that do not)
                  if (spec.username !== undefined)
                    c.publish(deviceTopic(spec.username, 'status'), JSON.stringify(status), { qos: 1 });
                },
                (e: unknown) => refused('station', spec.index, e),
              );
            });
          });
        await c.subscribeAsync(spec.subscriptions, { qos: 1 });
        return c;
      }),
    );
    clients.push(...made);
  }
  return req.clients.length;
}

parentPort?.on('message', (req: WorkerRequest) => {
  if (req.type === 'init') {
    times = {
      raw: new Float64Array(req.times.raw),
      station: new Float64Array(req.times.station),
    };
    received = new Float64Array(req.received);
    checks = new Float64Array(req.checks);
    counters = new Int32Array(req.counters);
    return;
  }
  if (req.type === 'connect') {
    connect(req).then(
      (count) => parentPort?.postMessage({ type: 'connected', set: req.set, count } satisfies WorkerReply),
      (e: unknown) => parentPort?.postMessage({ type: 'error', message: String(e) } satisfies WorkerReply),
    );
    return;
  }
  if (req.type === 'close') {
    Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined))).then(() =>
      parentPort?.postMessage({ type: 'closed' } satisfies WorkerReply),
    );
  }
});
