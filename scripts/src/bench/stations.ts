/**
 * Real agents for the benchmarks that need them (fan-out, distribution): the simulator's
 * SimStation (the real agent over simulated hardware and audio timing) with the settings every
 * benchmark shares, run together as one SimFleet without faults or jitter.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { SimFleet } from '../sim/fleet.js';
import { seededRandom } from '../sim/random.js';
import { SimStation, type SimStationSpec } from '../sim/station.js';

export interface BenchStationOptions {
  /** The fleet server (http) and its MQTT listener, as the bench fleet reports them. */
  url: string;
  mqttUrl: string;
  /** Where the stations keep their data (one directory each below it). */
  dir: string;
  rootPem: string;
}

/** The spec of one benchmark station, named `name`, enrolling with `token`. */
export function benchStationSpec(
  o: BenchStationOptions,
  name: string,
  token: string,
  extra: Partial<SimStationSpec> = {},
): SimStationSpec {
  return {
    name,
    kind: 'station',
    displayName: `bench ${name}`,
    server: new URL(o.url),
    mqtt: new URL(o.mqttUrl),
    dataDir: join(o.dir, name),
    token,
    rootKeys: [o.rootPem],
    healthIntervalS: 3600,
    logLevel: 'silent',
    ampFault: false,
    ...extra,
  };
}

/** `count` stations `tram-0…` in this process, as a fleet without faults or start jitter. */
export function benchStationFleet(
  o: BenchStationOptions & {
    count: number;
    token: (i: number) => string;
    extra?: Partial<SimStationSpec>;
    startConcurrency: number;
    seed: number;
  },
): SimFleet {
  const logger = pino({ level: 'silent' });
  const stations = Array.from(
    { length: o.count },
    (_, i) => new SimStation(benchStationSpec(o, `tram-${i}`, o.token(i), o.extra), logger),
  );
  return new SimFleet(
    stations,
    {
      powerCutsPerHour: 0,
      powerCutSeconds: 1,
      outagesPerHour: 0,
      outageSeconds: 1,
      jitterMs: 0,
      startConcurrency: o.startConcurrency,
    },
    seededRandom(o.seed),
    logger,
  );
}
