/**
 * Light stations for the fan-out benchmark: many mqtt.js clients spread over worker threads (so
 * the load generator's one event loop is not what is measured), each receiving an emergency as a
 * station does (see light-station-worker.ts). The main thread arms a round (zeroes its slots in
 * shared memory), sends or requests the message, and waits until every client has reported.
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  COUNTER_SLOTS,
  COUNTERS_PER_SET,
  LAST_BYTES_SLOT,
  type LightClientSpec,
  type LightSet,
  SETS,
  type WorkerReply,
  type WorkerRequest,
} from './light-station-worker.js';

export type { LightClientSpec, LightSet };

const here = fileURLToPath(import.meta.url);
const workerFile = join(dirname(here), `light-station-worker${extname(here)}`);

/**
 * A worker on the compiled build runs its file; on the TypeScript sources (npm run bench, the
 * tests) it loads the worker through tsx's API, as a worker thread does not inherit the loader.
 */
function startWorker(): Worker {
  const execArgv = ['--conditions=@loa/source'];
  if (extname(here) !== '.ts') return new Worker(workerFile, { execArgv });
  // the ESM entry of tsx/esm/api (require.resolve would give its CommonJS one)
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(pathToFileURL(workerFile).href)}, ${JSON.stringify(pathToFileURL(here).href)}))`;
  return new Worker(code, { eval: true, execArgv });
}

export interface RoundResult {
  /** Per client that had it: absolute arrival (raw) or audio-ready (station) time, ms. */
  times: number[];
  /** Station set: per client that had it ready, when its message arrived (before the checks). */
  received: number[];
  /** Station set: per client that had it ready, how long its own checks took (ms). */
  checks: number[];
  arrived: number;
  refused: number;
  expected: number;
}

export class LightStationPool {
  readonly #workers: Worker[] = [];
  readonly #times: Record<LightSet, Float64Array>;
  readonly #received: Float64Array;
  readonly #checks: Float64Array;
  readonly #counters: Int32Array;
  readonly #capacity: number;
  readonly #counts: Record<LightSet, number> = { raw: 0, station: 0 };
  /** Distinct refusal codes the workers reported (set: code → message). */
  readonly refusals: { set: LightSet; code: string; message: string }[] = [];
  #pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }[][] = [];

  /** `workers` threads for at most `capacity` clients per set. */
  constructor(workers: number, capacity: number) {
    this.#capacity = capacity;
    const timeBufs = {
      raw: new SharedArrayBuffer(capacity * 8),
      station: new SharedArrayBuffer(capacity * 8),
    };
    const receivedBuf = new SharedArrayBuffer(capacity * 8);
    this.#received = new Float64Array(receivedBuf);
    const checksBuf = new SharedArrayBuffer(capacity * 8);
    this.#checks = new Float64Array(checksBuf);
    const counterBuf = new SharedArrayBuffer(COUNTER_SLOTS * 4);
    this.#times = { raw: new Float64Array(timeBufs.raw), station: new Float64Array(timeBufs.station) };
    this.#counters = new Int32Array(counterBuf);
    for (let w = 0; w < workers; w++) {
      const worker = startWorker();
      this.#pending.push([]);
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'refused') {
          if (!this.refusals.some((r) => r.set === m.set && r.code === m.code)) this.refusals.push(m);
          return;
        }
        const p = this.#pending[w]?.shift();
        if (m.type === 'error') p?.reject(new Error(`light-station worker ${w}: ${m.message}`));
        else p?.resolve(m);
      });
      worker.on('error', (e) => {
        for (const p of this.#pending[w]?.splice(0) ?? []) p.reject(e);
      });
      worker.postMessage({
        type: 'init',
        times: timeBufs,
        received: receivedBuf,
        checks: checksBuf,
        counters: counterBuf,
      } satisfies WorkerRequest);
      this.#workers.push(worker);
    }
  }

  get workers(): number {
    return this.#workers.length;
  }

  #ask(w: number, req: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      this.#pending[w]?.push({ resolve, reject });
      this.#workers[w]?.postMessage(req);
    });
  }

  /**
   * Connects clients of a set, spread round-robin over the workers (client i in worker
   * i mod workers). `make(i)` gives client i's address, credentials and subscriptions.
   */
  async connect(
    set: LightSet,
    count: number,
    make: (i: number) => Omit<LightClientSpec, 'index'>,
    trust?: { policy: unknown; rootPems: string[] },
  ): Promise<void> {
    if (this.#counts[set] + count > this.#capacity)
      throw new Error(`more than ${this.#capacity} ${set} clients`);
    const per: LightClientSpec[][] = this.#workers.map(() => []);
    for (let k = 0; k < count; k++) {
      const index = this.#counts[set] + k;
      per[index % this.#workers.length]?.push({ index, ...make(index) });
    }
    await Promise.all(
      per.map((clients, w) =>
        clients.length ? this.#ask(w, { type: 'connect', set, clients, ...(trust ? { trust } : {}) }) : null,
      ),
    );
    this.#counts[set] += count;
  }

  /** Forgets the last round of a set: every client records its next arrival. */
  arm(set: LightSet): void {
    this.#times[set].fill(0, 0, this.#counts[set]);
    if (set === 'station') {
      this.#received.fill(0, 0, this.#counts[set]);
      this.#checks.fill(0, 0, this.#counts[set]);
    }
    const base = SETS.indexOf(set) * COUNTERS_PER_SET;
    for (let k = 0; k < COUNTERS_PER_SET; k++) Atomics.store(this.#counters, base + k, 0);
  }

  /** How many clients of the set have reported (arrived or refused) since arm(). */
  reported(set: LightSet): number {
    const base = SETS.indexOf(set) * COUNTERS_PER_SET;
    return Atomics.load(this.#counters, base) + Atomics.load(this.#counters, base + 1);
  }

  /** Bytes of the last emergency message a station client received (the raw round's size). */
  lastMessageBytes(): number {
    return Atomics.load(this.#counters, LAST_BYTES_SLOT);
  }

  /** Waits until every client of the set reported or `timeoutMs` passed, then reads the round. */
  async collect(set: LightSet, timeoutMs: number): Promise<RoundResult> {
    const expected = this.#counts[set];
    const end = performance.now() + timeoutMs;
    while (this.reported(set) < expected && performance.now() < end)
      await new Promise((r) => setTimeout(r, 5));
    const base = SETS.indexOf(set) * COUNTERS_PER_SET;
    const times: number[] = [];
    const received: number[] = [];
    const checks: number[] = [];
    for (let i = 0; i < expected; i++) {
      const t = this.#times[set][i] as number;
      if (t > 0) {
        times.push(t);
        if (set === 'station') {
          received.push(this.#received[i] as number);
          checks.push(this.#checks[i] as number);
        }
      }
    }
    return {
      times,
      received,
      checks,
      arrived: Atomics.load(this.#counters, base),
      refused: Atomics.load(this.#counters, base + 1),
      expected,
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map((_, w) =>
        Promise.race([this.#ask(w, { type: 'close' }), new Promise((r) => setTimeout(r, 10_000))]),
      ),
    );
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
