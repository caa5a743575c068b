/**
 * Entry of a benchmark child process: hosts one system under test (raw aedes, a plain static
 * HTTP server, the real fleet server, one real agent that must have a CPU of its own, or one plain
 * MQTT subscriber) so the load generator in the parent and the server do
 * not share an event loop, and the server's CPU and RSS can be read from /proc.
 * Protocol over IPC: parent sends {type:'start', spec}; child answers {type:'ready', ...} or
 * {type:'error', message}; parent sends {type:'stop'} and the child closes and exits.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join, normalize } from 'node:path';
import { Aedes } from 'aedes';
import type { SimStationSpec } from '../sim/station.js';
import type { ChildReady, ChildSpec } from './child.js';

type Stopper = () => Promise<void>;
type Querier = (what: string, arg?: unknown) => Promise<unknown>;

function listen(server: NetServer | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function startAedes(): Promise<[ChildReady, Stopper]> {
  const broker = await Aedes.createBroker();
  const server = createNetServer(broker.handle);
  const port = await listen(server);
  return [
    { type: 'ready', mqttPort: port },
    async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await close(server);
    },
  ];
}

/** A plain Node static-file server: the baseline for bundle distribution. */
async function startStatic(dir: string): Promise<[ChildReady, Stopper]> {
  const root = normalize(dir);
  const server = createHttpServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    if (!path.startsWith(root)) {
      res.writeHead(400).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    createReadStream(path).pipe(res);
  });
  const port = await listen(server);
  return [{ type: 'ready', httpPort: port }, () => close(server)];
}

let querier: Querier | undefined;

async function startFleet(options: Record<string, unknown>): Promise<[ChildReady, Stopper]> {
  const { startBenchFleet } = await import('./fleet.js');
  const fleet = await startBenchFleet(options);
  querier = fleet.query;
  return [
    { type: 'ready', httpPort: fleet.httpPort, mqttPort: fleet.mqttPort, info: fleet.info },
    fleet.stop,
  ];
}

/**
 * One real agent (a SimStation: the real agent over simulated hardware and audio timing): a
 * station in the field has its own CPU, so its latency is measured apart from the many agents
 * that share the load generator's event loop. Ready once enrolled and connected.
 */
async function startStation(
  spec: Extract<ChildSpec, { kind: 'station' }>['spec'],
): Promise<[ChildReady, Stopper]> {
  const [{ pino }, { SimStation }] = await Promise.all([import('pino'), import('../sim/station.js')]);
  const station = new SimStation(
    {
      ...(spec as unknown as SimStationSpec),
      server: new URL(spec.server),
      mqtt: new URL(spec.mqtt),
    },
    pino({ level: process.env.LOA_BENCH_STATION_LOG ?? 'silent' }),
  );
  const stop = () => station.stop();
  await station.start();
  const until = Date.now() + 60_000;
  while (!(station.deviceId && station.runtime?.link()?.connected)) {
    if (Date.now() > until) {
      await stop();
      throw new Error('the station did not enrol and connect within 60 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return [{ type: 'ready', info: { deviceId: station.deviceId } }, stop];
}

/**
 * One plain mqtt.js client subscribed to `topic` (QoS 1), noting when each message arrived
 * (absolute ms, performance.timeOrigin + performance.now()) and its size: the raw receive time
 * of a process of its own, beside a real agent's.
 */
async function startSubscriber(url: string, topic: string): Promise<[ChildReady, Stopper]> {
  const { connectAsync } = await import('mqtt');
  const client = await connectAsync(url, { clientId: `bench-sub-${process.pid}`, reconnectPeriod: 0 });
  let arrivals: { at: number; bytes: number }[] = [];
  client.on('message', (_t, payload) =>
    arrivals.push({ at: performance.timeOrigin + performance.now(), bytes: payload.length }),
  );
  await client.subscribeAsync(topic, { qos: 1 });
  querier = async (what) => {
    if (what !== 'arrivals') throw new Error(`unknown query ${what}`);
    const out = arrivals;
    arrivals = [];
    return out;
  };
  return [{ type: 'ready' }, () => client.endAsync(true)];
}

let stopper: Stopper | undefined;

process.on(
  'message',
  (msg: { type: string; spec?: ChildSpec; id?: number; what?: string; arg?: unknown }) => {
    if (msg.type === 'query') {
      const id = msg.id;
      (querier ? querier(msg.what ?? '', msg.arg) : Promise.reject(new Error('nothing to query'))).then(
        (data: unknown) => process.send?.({ type: 'reply', id, data }),
        (e: unknown) => process.send?.({ type: 'reply', id, error: String(e) }),
      );
      return;
    }
    if (msg.type === 'start' && msg.spec) {
      const spec = msg.spec;
      const started =
        spec.kind === 'aedes'
          ? startAedes()
          : spec.kind === 'static'
            ? startStatic(spec.dir)
            : spec.kind === 'station'
              ? startStation(spec.spec)
              : spec.kind === 'subscriber'
                ? startSubscriber(spec.url, spec.topic)
                : startFleet(spec.options);
      started.then(
        ([ready, stop]) => {
          stopper = stop;
          process.send?.(ready);
        },
        (e: unknown) => {
          process.send?.({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        },
      );
    } else if (msg.type === 'stop') {
      const done = () => process.exit(0);
      const timer = setTimeout(done, 5000);
      timer.unref();
      (stopper ? stopper() : Promise.resolve()).finally(done);
    }
  },
);
process.on('disconnect', () => process.exit(0));
