/**
 * The PostgreSQL store beside the embedded one, in the same run (the embedded store is the
 * baseline): enrolment rate with 10,000 devices already enrolled (each enrolment as the enrol
 * route does it: consume the token, insert the device, make it durable, audit it), a device's
 * 30-day health history out of 30 days of a fleet's health (index vs NDJSON scan), and proof
 * ingest per CPU-second (this process plus, for PostgreSQL, the server processes). PostgreSQL is
 * a throwaway cluster with fsync on (scripts/src/postgres/temp-cluster.ts). `--quick` shrinks the
 * fleet to 1,000 devices and the history to fewer reports a day.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFileStore,
  createPgStore,
  type EnrolmentTokenRecord,
  type HealthEntry,
  type ProofEntry,
  type Store,
  type UnitRecord,
} from '@loa/fleet-server';
import { generateKeyPair, keyId, proofHash, rawPublicKey } from '@loa/protocol';
import { startTempPostgres } from '../../postgres/temp-cluster.js';
import { figure, type Scenario } from '../harness.js';
import { round, summarize } from '../stats.js';
import { benchDevice } from './registry.js';
import { proofChain, sampleHealth } from './samples.js';

const DAY = 86_400_000;
const COMMUNES = ['08/02500', '08/02503', '08/02506', '08/02509'];

function units(iso: string): UnitRecord[] {
  return [
    {
      path: '08',
      code: '08',
      name: 'Tuyên Quang',
      level: 'province',
      parent: null,
      createdAt: iso,
      updatedAt: iso,
    },
    ...COMMUNES.map((p, i) => ({
      path: p,
      code: p.slice(3),
      name: `Xã ${i + 1}`,
      level: 'commune',
      parent: '08',
      createdAt: iso,
      updatedAt: iso,
    })),
  ];
}

/** CPU time (ms) of a process and its children by /proc (PostgreSQL: the postmaster's backends). */
function processTreeCpuMs(root: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(join('/proc', p, 'stat'), 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(p);
      const ppid = Number(f[1]);
      if (pid === root || ppid === root) total += ((Number(f[11]) + Number(f[12])) * 1000) / tick;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function enrolmentRate(store: Store, devices: number, rounds: number): Promise<number> {
  const iso = new Date().toISOString();
  await store.units.putMany(units(iso));
  const k = generateKeyPair();
  const pub = rawPublicKey(k.publicKey).toString('base64');
  const kid = keyId(k.publicKey);
  const batch = 500;
  for (let i = 0; i < devices; i += batch)
    await Promise.all(
      Array.from({ length: Math.min(batch, devices - i) }, (_, j) =>
        store.devices.put(benchDevice(i + j, COMMUNES[(i + j) % COMMUNES.length] as string, pub, kid, iso)),
      ),
    );
  await store.flush();
  const token: EnrolmentTokenRecord = {
    id: 'bench-token',
    hash: 'bench-token-hash',
    unit: '08/02500',
    kind: 'station',
    groups: [],
    maxUses: rounds,
    uses: 0,
    expiresAt: new Date(Date.now() + DAY).toISOString(),
    requireApproval: false,
    createdBy: 'bench',
    createdAt: iso,
  };
  await store.enrolmentTokens.insert(token);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    await store.enrolmentTokens.consume(token.hash, new Date().toISOString());
    const d = benchDevice(devices + r, '08/02500', pub, kid, iso);
    await store.devices.insert(d);
    await store.flush();
    await store.audit.append({ actor: { type: 'device', id: d.id }, action: 'device.enrol', unit: d.unit });
  }
  return rounds / ((performance.now() - t0) / 1000);
}

/** Writes `days` days of health for `devices` devices, `perDay` reports each, day by day. */
async function fillHistory(
  store: Store,
  clock: { now: number },
  o: { devices: number; days: number; perDay: number; end: number },
): Promise<number> {
  let n = 0;
  const step = DAY / o.perDay;
  for (let d = o.days; d >= 1; d--) {
    for (let r = 0; r < o.perDay; r++) {
      clock.now = o.end - d * DAY + r * step;
      const at = new Date(clock.now);
      const h = sampleHealth(r, at);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < o.devices; i++) {
        const e: HealthEntry = {
          deviceId: `dev-${i}`,
          receivedAt: new Date(clock.now + i).toISOString(),
          health: h,
        };
        pending.push(store.health.append(e));
        n++;
      }
      await Promise.all(pending);
    }
    await store.flush();
  }
  return n;
}

async function historyQueryMs(store: Store, devices: number, end: number, rounds: number): Promise<number> {
  const lat: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const deviceId = `dev-${(r * 7919) % devices}`;
    const t = performance.now();
    const rows = await store.health.query({
      deviceId,
      from: new Date(end - 30 * DAY).toISOString(),
      to: new Date(end).toISOString(),
      limit: 100_000,
    });
    lat.push(performance.now() - t);
    if (rows.length === 0) throw new Error(`no history for ${deviceId}`);
  }
  return summarize(lat).p50;
}

function proofBatches(count: number, devices: number): ProofEntry[][] {
  const key = generateKeyPair();
  const perDevice = Math.ceil(count / devices);
  const start = new Date();
  const chains = Array.from({ length: devices }, (_, i) => proofChain(`pdev-${i}`, key, perDevice, start));
  const entries: ProofEntry[] = [];
  for (let s = 0; s < perDevice; s++)
    for (const c of chains) {
      const p = c[s];
      if (p)
        entries.push({
          deviceId: p.deviceId,
          receivedAt: new Date().toISOString(),
          hash: proofHash(p),
          proof: p,
        });
    }
  const out: ProofEntry[][] = [];
  for (let i = 0; i < entries.length; i += 100) out.push(entries.slice(i, i + 100));
  return out;
}

/** Proofs stored per CPU-second (durable batches of 100, 4 in flight as ingest keeps them). */
async function proofIngest(
  store: Store,
  batches: ProofEntry[][],
  serverCpuMs: () => number,
): Promise<number> {
  const c0 = selfCpuMs() + serverCpuMs();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++] as ProofEntry[];
      await store.proofs.appendMany(b);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const cpu = selfCpuMs() + serverCpuMs() - c0;
  const n = batches.reduce((a, b) => a + b.length, 0);
  return n / (cpu / 1000);
}

export const storePostgres: Scenario = {
  name: 'postgres',
  title:
    'PostgreSQL store beside the embedded one: enrolment at 10,000 devices, 30-day history query, proof ingest',
  budgetMs: { quick: 120_000, full: 900_000 },
  async run(ctx) {
    const devices = ctx.quick ? 1000 : 10_000;
    const enrolRounds = ctx.quick ? 30 : 100;
    const history = ctx.quick
      ? { devices: 1000, days: 30, perDay: 4 }
      : { devices: 10_000, days: 30, perDay: 8 };
    const proofCount = ctx.quick ? 20_000 : 100_000;
    const pg = await startTempPostgres();
    const pgPid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const serverCpu = () => processTreeCpuMs(pgPid);
    const dbs = ['enrol', 'history', 'proofs'];
    const admin = createPgStore({ url: pg.url, now: Date.now, retentionDays: 3650 });
    try {
      for (const d of dbs) await admin.db.query(`CREATE DATABASE bench_${d}`);
      const lowdb = (sub: string, clock?: { now: number }) =>
        createFileStore({
          dataDir: join(ctx.tmpDir, sub),
          now: clock ? () => clock.now : Date.now,
          retentionDays: 3650,
          registryFlushMs: 200,
          healthFsyncMs: 1000,
        });
      const postgres = (d: string, clock?: { now: number }) =>
        createPgStore({
          url: pg.urlFor(`bench_${d}`),
          now: clock ? () => clock.now : Date.now,
          retentionDays: 3650,
        });
      const run = async <T>(s: Store, fn: (s: Store) => Promise<T>): Promise<T> => {
        await s.start();
        try {
          return await fn(s);
        } finally {
          await s.stop();
        }
      };

      ctx.log(`enrolment with ${devices} devices enrolled`);
      const enrolLow = await run(lowdb('enrol'), (s) => enrolmentRate(s, devices, enrolRounds));
      const enrolPg = await run(postgres('enrol'), (s) => enrolmentRate(s, devices, enrolRounds));

      ctx.log(`history: ${history.devices} devices × ${history.days} days × ${history.perDay} reports`);
      const end = Date.now();
      const lowClock = { now: end };
      const pgClock = { now: end };
      const fillLowMs = performance.now();
      const rows = await run(lowdb('history', lowClock), (s) =>
        fillHistory(s, lowClock, { ...history, end }),
      );
      const fillLow = performance.now() - fillLowMs;
      const fillPgMs = performance.now();
      await run(postgres('history', pgClock), (s) => fillHistory(s, pgClock, { ...history, end }));
      const fillPg = performance.now() - fillPgMs;
      const qLow = await run(lowdb('history'), (s) =>
        historyQueryMs(s, history.devices, end, ctx.quick ? 3 : 5),
      );
      const qPg = await run(postgres('history'), (s) =>
        historyQueryMs(s, history.devices, end, ctx.quick ? 10 : 20),
      );

      ctx.log(`proof ingest: ${proofCount} signed proofs in durable batches of 100`);
      const batches = proofBatches(proofCount, 200);
      const ingLow = await run(lowdb('proofs'), (s) => proofIngest(s, batches, () => 0));
      const ingPg = await run(postgres('proofs'), (s) => proofIngest(s, batches, serverCpu));

      const base = (label: string, value: number, unit: string) => ({ label, value, unit });
      return {
        notes: [
          `Enrolment: ${enrolRounds} enrolments one after the other, each durable before the next (token consumed, device inserted, flushed, audited), with ${devices} devices already enrolled.`,
          `History: ${rows} health reports (${history.devices} devices, ${history.days} days, ${history.perDay} a day) written in ${round(fillLow / 1000)} s (embedded) and ${round(fillPg / 1000)} s (PostgreSQL); the query is one device's 30 days.`,
          `Proof ingest: ${proofCount} signed proofs of 200 devices, durable batches of 100, 4 in flight; CPU of this process and, for PostgreSQL, of its server processes.`,
          'PostgreSQL runs on the same machine with fsync on (a throwaway cluster).',
        ],
        figures: [
          figure(
            'postgres.enrol.rate',
            `enrolments per second at ${devices} devices (PostgreSQL)`,
            enrolPg,
            '/s',
            {
              baseline: base('embedded store (lowdb)', enrolLow, '/s'),
            },
          ),
          figure(
            'postgres.history.p50',
            `one device's 30-day health history, p50 (PostgreSQL, ${history.devices} devices)`,
            qPg,
            'ms',
            {
              baseline: base('embedded store (NDJSON scan)', qLow, 'ms'),
            },
          ),
          figure(
            'postgres.proofs.per-cpu-s',
            'proofs stored per CPU-second (PostgreSQL, client + server)',
            ingPg,
            '/CPU-s',
            {
              baseline: base('embedded store (segments, group fsync)', ingLow, '/CPU-s'),
            },
          ),
        ],
        details: { enrolLow, enrolPg, fillLow, fillPg, qLow, qPg, ingLow, ingPg, rows },
      };
    } finally {
      await admin.stop().catch(() => {});
      await pg.stop();
    }
  },
};
