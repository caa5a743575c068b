/**
 * Cancelling an emergency across a simulated commune, every component real on 127.0.0.1: the fleet
 * server in this process (hono, embedded aedes, file store, espeak-ng and ffmpeg), 51 simulated
 * stations (each the real agent: enrolment, trust policy, fleet link, bundle store, player on
 * simulated audio timing, signed proof journal) and one more real agent playing through real
 * ffmpeg into a WAV file.
 *
 * 1. One simulated station is offline. The operator sends an emergency to the commune; once the
 *    50 simulated stations and the ffmpeg station all play it, the operator cancels it 3 s later
 *    through the API. Every online station stops and signs a `withdrawn` proof, which this test
 *    verifies with that station's own public key; the server's recall view counts them all.
 * 2. The offline station returns: it receives the recall, drops the bundle without playing it,
 *    signs `withdrawn`, and never sends a `started` proof for it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '@loa/agent';
import type { FleetServer } from '@loa/fleet-server';
import {
  generateKeyPair,
  keyId,
  type Proof,
  ProofSchema,
  privateKeyFromPem,
  proofDigests,
  publicKeyToPem,
  rawPublicKey,
  verifyBytes,
} from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimFleet } from '../../scripts/src/sim/fleet.js';
import { createEnrolmentToken } from '../../scripts/src/sim/provision.js';
import { seededRandom } from '../../scripts/src/sim/random.js';
import { SimStation } from '../../scripts/src/sim/station.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { type Province, type Station, startProvince, startStation } from './helpers/province-station.js';

const COMMUNE = '08/02500';
const SIMULATED = 50;
const REASON = 'Báo động nhầm, huỷ cảnh báo lũ';
const dir = mkdtempSync(join(tmpdir(), 'loa-sim-cancel-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });

let server: FleetServer | undefined;
let province: Province;
let fleet: SimFleet | undefined;
let online: SimStation[] = [];
let offline: SimStation;
let real: Station | undefined;
let realId = '';
/** The offline station's id (a stopped SimStation has no runtime to ask). */
let offId = '';
let emergencyId = '';

interface ProofEntry {
  deviceId: string;
  proof: Proof;
}
interface RecallView {
  state: string;
  targeted: number;
  withdrawn: number;
}

/** Polls outside a test (hooks cannot use expect.poll); names what it waited for on timeout. */
async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number) {
  try {
    return await eventually(fn, timeoutMs, 250);
  } catch (e) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: e });
  }
}

async function proofsOf(id: string): Promise<ProofEntry[]> {
  const rows = await province.operator.get<ProofEntry[]>(`/devices/${id}/proofs?limit=1000`);
  return [...rows].sort((x, y) => x.proof.seq - y.proof.seq);
}

async function isOnline(id: string): Promise<boolean> {
  return (await province.operator.get<{ online: boolean }>(`/devices/${id}`)).online;
}

const withdrawnOf = (rows: ProofEntry[], bundleId: string) =>
  rows.find((e) => e.proof.bundleId === bundleId && e.proof.outcome === 'withdrawn');

/** The proof is the station's: its key id and Ed25519 signature check out with that public key. */
async function expectSignedBy(deviceId: string, publicKey: KeyObject, proof: Proof) {
  // the key the station holds is the key it enrolled with
  const record = await server?.deps.store.devices.get(deviceId);
  expect(record?.publicKey).toBe(rawPublicKey(publicKey).toString('base64'));
  const parsed = ProofSchema.parse(proof);
  const { signingBytes } = proofDigests(parsed);
  expect(parsed.signatures.length).toBeGreaterThan(0);
  for (const s of parsed.signatures) {
    expect(s.keyid).toBe(keyId(publicKey));
    expect(verifyBytes(publicKey, signingBytes, Buffer.from(s.sig, 'base64'))).toBe(true);
  }
  // a proof altered after signing does not verify
  const forged = proofDigests({ ...parsed, reason: 'đã phát' }).signingBytes;
  const sig = parsed.signatures[0]?.sig ?? '';
  expect(verifyBytes(publicKey, forged, Buffer.from(sig, 'base64'))).toBe(false);
}

beforeAll(async () => {
  province = await startProvince({
    dataDir: join(dir, 'server'),
    root,
    commune: COMMUNE,
    logger: log.child({ side: 'server' }),
    onServer: (s) => {
      server = s;
    },
  });
  const url = (province.server as FleetServer).url;
  const mqttUrl = (province.server as FleetServer).mqttUrl;
  const token = await createEnrolmentToken(province.technician, {
    unit: COMMUNE,
    kind: 'station',
    maxUses: SIMULATED + 1,
  });
  const rootPem = join(dir, 'root.pub.pem');
  writeFileSync(rootPem, publicKeyToPem(root.publicKey));
  const simLog = log.child({ side: 'sim' });
  const stations = Array.from(
    { length: SIMULATED + 1 },
    (_, i) =>
      new SimStation(
        {
          name: i < SIMULATED ? `tram-${String(i + 1).padStart(2, '0')}` : 'tram-mat-ket-noi',
          kind: 'station',
          displayName: `Cụm loa ${i + 1} (mô phỏng)`,
          server: new URL(url),
          mqtt: new URL(mqttUrl),
          dataDir: join(dir, 'sim', `tram-${i + 1}`),
          token,
          rootKeys: [rootPem],
          healthIntervalS: 60,
          warmupMs: 300,
          logLevel: 'silent',
          ampFault: false,
        },
        simLog,
      ),
  );
  online = stations.slice(0, SIMULATED);
  offline = stations[SIMULATED] as SimStation;
  fleet = new SimFleet(
    stations,
    {
      powerCutsPerHour: 0,
      powerCutSeconds: 1,
      outagesPerHour: 0,
      outageSeconds: 1,
      jitterMs: 0,
      startConcurrency: 4,
    },
    seededRandom(15),
    simLog,
  );
  await fleet.start();
  real = await startStation({
    dir: join(dir, 'real'),
    serverUrl: url,
    root,
    token: province.token,
    logger: log.child({ side: 'real' }),
  });
  await waitFor(
    'every simulated station connected',
    () => fleet?.summary().connected === SIMULATED + 1,
    240_000,
  );
  const agent = real.rt;
  realId = (await waitFor('the real agent enrolled', () => agent.enrolment.credentials(), 60_000)).deviceId;
  await waitFor('the real agent online', () => isOnline(realId), 60_000);

  // one station goes offline (a power cut that lasts): it is enrolled, so the emergency targets it
  offId = offline.deviceId as string;
  await offline.stop();
  await waitFor('the offline station seen offline', async () => !(await isOnline(offId)), 60_000);
}, 420_000);

afterAll(async () => {
  await real?.rt.stop();
  await fleet?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('an emergency cancelled 3 s into playing, 50 simulated stations and a real one on 127.0.0.1', () => {
  it('stops at every online station, each with a withdrawn proof signed by its own key', async () => {
    const sent = await province.operator.post<{ bundle: { id: string } }>('/emergency', {
      unit: COMMUNE,
      title: 'Cảnh báo lũ quét',
      text:
        'Cảnh báo khẩn cấp. Lũ quét đang xảy ra tại thượng nguồn suối. Đề nghị bà con khẩn trương ' +
        'di chuyển đến nơi cao ráo, an toàn, không qua ngầm tràn. Không đi vào vùng nước chảy xiết.',
      repeat: 10,
      gapSeconds: 0,
    });
    const id = sent.bundle.id;
    emergencyId = id;
    const agent = (real as Station).rt;

    // every online station, simulated and real, has it on air
    const heard = new Set<string>();
    await expect
      .poll(
        () => {
          online.forEach((st, i) => {
            if (st.onAir() === id) heard.add(`sim-${i}`);
          });
          if (agent.player.status().onAir?.bundleId === id) heard.add('real');
          return heard.size;
        },
        { timeout: 180_000, interval: 50 },
      )
      .toBe(SIMULATED + 1);
    // the operator cancels it 3 s into playing
    await new Promise((r) => setTimeout(r, 3000));
    const playingAtCancel = online.filter((st) => st.onAir() === id).length;
    const recall = await province.operator.post<RecallView>(`/bundles/${id}/recall`, { reason: REASON });
    expect(recall).toMatchObject({ state: 'published', targeted: SIMULATED + 2 });

    // every online station stops it and keeps the recall
    await expect
      .poll(
        () =>
          online.filter((st) => st.onAir() !== id && st.recalled().includes(id)).length +
          (agent.player.status().onAir?.bundleId !== id &&
          agent.bundles.recalled().some((r) => r.bundleId === id)
            ? 1
            : 0),
        { timeout: 60_000, interval: 50 },
      )
      .toBe(SIMULATED + 1);
    console.info(`[sim-cancel] ${playingAtCancel}/${SIMULATED} simulated stations on air at the cancel`);
    // the simulator's own summary says the same: nothing on air, one recall obeyed per running station
    expect(fleet?.summary()).toMatchObject({ running: SIMULATED, onAir: 0, withdrawn: SIMULATED });

    // each one's withdrawn proof reaches the server, signed with the station's own key
    const devices = [
      ...online.map((st) => ({ id: st.deviceId as string, key: st.publicKey() })),
      { id: realId, key: realPublicKey() },
    ];
    const proofs = new Map<string, ProofEntry[]>();
    await expect
      .poll(
        async () => {
          for (const d of devices) {
            if (proofs.has(d.id)) continue;
            const rows = await proofsOf(d.id);
            if (withdrawnOf(rows, id)) proofs.set(d.id, rows);
          }
          return proofs.size;
        },
        { timeout: 120_000, interval: 1000 },
      )
      .toBe(devices.length);
    for (const d of devices) {
      const rows = proofs.get(d.id) as ProofEntry[];
      const w = withdrawnOf(rows, id) as ProofEntry;
      expect(w.proof).toMatchObject({
        deviceId: d.id,
        outcome: 'withdrawn',
        priority: 'emergency',
        reason: REASON,
      });
      await expectSignedBy(d.id, d.key, w.proof);
      // it had started playing before the cancel
      expect(rows.some((e) => e.proof.bundleId === id && e.proof.outcome === 'started')).toBe(true);
    }

    // the server's recall view counts every online station
    await expect
      .poll(async () => (await province.operator.get<RecallView>(`/bundles/${id}/recall`)).withdrawn, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe(SIMULATED + 1);
    const bundle = await province.operator.get<{ state: string }>(`/bundles/${id}`);
    expect(bundle.state).toBe('recalled');
  }, 600_000);

  it('the station offline during the cancel returns, drops the emergency and never plays it', async () => {
    const id = emergencyId;
    expect(id).not.toBe('');
    let playedOnReturn = false;
    const watch = setInterval(() => {
      if (offline.onAir() === id) playedOnReturn = true;
    }, 10);
    try {
      await offline.start();
      await expect.poll(() => isOnline(offId), { timeout: 60_000, interval: 250 }).toBe(true);
      await expect
        .poll(async () => withdrawnOf(await proofsOf(offId), id) !== undefined, {
          timeout: 60_000,
          interval: 500,
        })
        .toBe(true);
      await expect
        .poll(async () => (await province.operator.get<RecallView>(`/bundles/${id}/recall`)).withdrawn, {
          timeout: 60_000,
          interval: 500,
        })
        .toBe(SIMULATED + 2);
    } finally {
      clearInterval(watch);
    }
    expect(playedOnReturn).toBe(false);
    expect(offline.recalled()).toContain(id);
    const rows = await proofsOf(offId);
    const w = withdrawnOf(rows, id) as ProofEntry;
    await expectSignedBy(offId, offline.publicKey(), w.proof);
    // withdrawn (or dropped), never started, completed or interrupted
    expect(rows.filter((e) => e.proof.bundleId === id).map((e) => e.proof.outcome)).toEqual(['withdrawn']);

    // and no station started it again after its withdrawal
    for (const st of online) {
      const mine = await proofsOf(st.deviceId as string);
      const ws = withdrawnOf(mine, id) as ProofEntry;
      expect(
        mine.filter(
          (e) => e.proof.bundleId === id && e.proof.outcome === 'started' && e.proof.seq > ws.proof.seq,
        ),
      ).toEqual([]);
    }
  }, 300_000);
});

/** The real agent's own public key, from its device key file. */
function realPublicKey(): KeyObject {
  const dataDir = (real as Station).rt.config.device.dataDir;
  return createPublicKey(privateKeyFromPem(readFileSync(dataPaths(dataDir).deviceKey, 'utf8')));
}
