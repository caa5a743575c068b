/**
 * The signed recall of a published bundle (for an emergency: its cancel), every component real on
 * 127.0.0.1: the fleet server in this process (hono, embedded aedes, file store, espeak-ng and
 * ffmpeg), two real agents (simulated GPIO, real ffmpeg into a WAV sink).
 *
 * 1. Station B is offline. An emergency goes to the commune; while station A plays it, the
 *    operator cancels it: A stops at once and signs a `withdrawn` proof, the server counts 1 of 2.
 * 2. Station B returns: the server re-sends the recall, B drops the bundle before it could play,
 *    signs `withdrawn` (2 of 2), and refuses the bundle from then on (the recall is on its disk).
 * 3. A forged, tampered or unsigned recall is refused by the station with a stable code, and a
 *    person without the permission cannot recall.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetServer } from '@loa/fleet-server';
import { addSignature, generateKeyPair, type Manifest, type Proof, type Recall } from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnrolmentToken } from '../../scripts/src/sim/provision.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { type Province, type Station, startProvince, startStation } from './helpers/province-station.js';

const COMMUNE = '08/02500';
const dir = mkdtempSync(join(tmpdir(), 'loa-recall-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });

let server: FleetServer | undefined;
let province: Province;
let a: Station | undefined;
let b: Station | undefined;
let tokenB = '';
const ids = { a: '', b: '' };
let emergency: { id: string; manifest: Manifest } | undefined;

interface ProofEntry {
  deviceId: string;
  proof: Proof;
}
interface RecallView {
  state: string;
  targeted: number;
  withdrawn: number;
  signatures: number;
  needed: number;
}

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, stepMs = 100) {
  const t0 = Date.now();
  try {
    return await eventually(fn, timeoutMs, stepMs);
  } catch (e) {
    throw new Error(`timed out after ${Date.now() - t0} ms waiting for ${what}`, { cause: e });
  }
}

async function proofsOf(id: string): Promise<ProofEntry[]> {
  const rows = await province.operator.get<ProofEntry[]>(`/devices/${id}/proofs?limit=1000`);
  return [...rows].sort((x, y) => x.proof.seq - y.proof.seq);
}

async function online(id: string): Promise<boolean> {
  const d = await province.operator.get<{ online: boolean }>(`/devices/${id}`);
  return d.online;
}

const station = (sub: string, token: string) =>
  startStation({
    dir: join(dir, sub),
    serverUrl: province.server.url,
    root,
    token,
    logger: log.child({ side: sub }),
  });

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
  tokenB = await createEnrolmentToken(province.technician, { unit: COMMUNE, kind: 'station', maxUses: 1 });
  a = await station('a', province.token);
  b = await station('b', tokenB);
  for (const [k, s] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const creds = await waitFor(`station ${k} to enrol`, () => s.rt.enrolment.credentials(), 60_000);
    ids[k] = creds.deviceId;
    await waitFor(`station ${k} online`, () => online(ids[k]), 60_000);
  }
}, 180_000);

afterAll(async () => {
  await a?.rt.stop();
  await b?.rt.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('recall of a published bundle (emergency cancel), real server and agents on 127.0.0.1', () => {
  it('an emergency cancelled while it plays stops on the station, with a signed withdrawn proof', async () => {
    await b?.rt.stop();
    b = undefined;
    await waitFor('station b offline', async () => !(await online(ids.b)), 30_000);

    const view = await province.operator.post<{ bundle: { id: string; manifest: Manifest } }>('/emergency', {
      unit: COMMUNE,
      title: 'Cảnh báo lũ quét',
      text:
        'Cảnh báo khẩn cấp. Lũ quét đang xảy ra tại thượng nguồn suối. Đề nghị bà con khẩn trương ' +
        'di chuyển đến nơi cao ráo, an toàn, không qua ngầm tràn. Không đi vào vùng nước chảy xiết.',
      repeat: 3,
      gapSeconds: 0,
    });
    emergency = { id: view.bundle.id, manifest: view.bundle.manifest };
    const id = emergency.id;
    const agent = (a as Station).rt;
    await waitFor(
      'the emergency on air at station a',
      () => agent.player.status().onAir?.bundleId === id || undefined,
      60_000,
      50,
    );

    // an editor may not cancel an emergency; the operator on duty may
    await expect(province.editor.post(`/bundles/${id}/recall`, { reason: 'nhầm' })).rejects.toMatchObject({
      code: 'FORBIDDEN_ROLE',
    });
    const cancelledAt = Date.now();
    const recall = await province.operator.post<RecallView>(`/bundles/${id}/recall`, {
      reason: 'Báo động nhầm, huỷ cảnh báo',
    });
    expect(recall).toMatchObject({ state: 'published', targeted: 2, signatures: 1, needed: 1 });

    // off air at once, and the player does not start it again
    await waitFor(
      'station a off air',
      () => agent.player.status().onAir?.bundleId !== id || undefined,
      5_000,
      20,
    );
    const stoppedMs = Date.now() - cancelledAt;
    console.info('[recall] cancel to off air (ms)', stoppedMs);
    expect(agent.bundles.active().some((x) => x.id === id)).toBe(false);
    expect(agent.bundles.recalled().map((r) => r.bundleId)).toContain(id);

    const withdrawn = await waitFor(
      'the withdrawn proof of station a on the server',
      async () =>
        (await proofsOf(ids.a)).find((e) => e.proof.bundleId === id && e.proof.outcome === 'withdrawn'),
      30_000,
      200,
    );
    expect(withdrawn.proof).toMatchObject({
      deviceId: ids.a,
      priority: 'emergency',
      reason: 'Báo động nhầm, huỷ cảnh báo',
      channel: emergency.manifest.channel,
      bundleVersion: emergency.manifest.version,
    });
    expect(withdrawn.proof.signatures.length).toBeGreaterThan(0);
    const counted = await waitFor(
      'the server counting station a',
      async () => {
        const v = await province.operator.get<RecallView>(`/bundles/${id}/recall`);
        return v.withdrawn === 1 ? v : undefined;
      },
      10_000,
    );
    expect(counted).toMatchObject({ targeted: 2, withdrawn: 1 });
    const bundle = await province.operator.get<{ state: string }>(`/bundles/${id}`);
    expect(bundle.state).toBe('recalled');
    // the recalled bundle is no longer offered to stations
    const res = await fetch(`${province.server.url}/bundles/${id}/manifest.json`);
    expect(res.status).toBeGreaterThanOrEqual(400);

    // nothing of it starts again in the next seconds
    await new Promise((r) => setTimeout(r, 3000));
    const after = (await proofsOf(ids.a)).filter(
      (e) => e.proof.bundleId === id && e.proof.outcome === 'started' && e.proof.seq > withdrawn.proof.seq,
    );
    expect(after).toEqual([]);
  }, 240_000);

  it('a station offline at the time of the recall drops the bundle when it returns and never plays it', async () => {
    const id = emergency?.id as string;
    b = await station('b', tokenB);
    const agent = b.rt;
    await waitFor('station b back online', () => online(ids.b), 60_000);
    const withdrawn = await waitFor(
      'the withdrawn proof of station b',
      async () =>
        (await proofsOf(ids.b)).find((e) => e.proof.bundleId === id && e.proof.outcome === 'withdrawn'),
      30_000,
      200,
    );
    expect(withdrawn.proof.deviceId).toBe(ids.b);
    const v = await waitFor(
      'the server counting both stations',
      async () => {
        const r = await province.operator.get<RecallView>(`/bundles/${id}/recall`);
        return r.withdrawn === 2 ? r : undefined;
      },
      10_000,
    );
    expect(v).toMatchObject({ targeted: 2, withdrawn: 2 });
    await new Promise((r) => setTimeout(r, 3000));
    expect(
      (await proofsOf(ids.b)).filter((e) => e.proof.bundleId === id && e.proof.outcome !== 'withdrawn'),
    ).toEqual([]);
    expect(agent.bundles.active().some((x) => x.id === id)).toBe(false);
    // the recall is on the station's disk: the emergency itself, delivered later, is refused
    expect(existsSync(join(dir, 'b', 'data', 'bundles', 'recalled.json'))).toBe(true);
    const manifest = emergency?.manifest as Manifest;
    await expect(agent.bundles.installInline(manifest, `${province.server.url}/blobs`)).rejects.toMatchObject(
      { code: 'BUNDLE_RECALLED' },
    );
    // and after a restart, before the server says anything, the station still knows
    await agent.stop();
    b = await station('b', tokenB);
    expect(b.rt.bundles.recalled().map((r) => r.bundleId)).toContain(id);
    await expect(b.rt.bundles.installInline(manifest, `${province.server.url}/blobs`)).rejects.toMatchObject({
      code: 'BUNDLE_RECALLED',
    });
  }, 180_000);

  it('refuses a forged, tampered or unsigned recall with a stable code', async () => {
    const id = emergency?.id as string;
    const rec = await province.operator.get<{ meta: { recall: { document: Recall } } }>(`/bundles/${id}`);
    const genuine = rec.meta.recall.document;
    const agent = (a as Station).rt;
    // the genuine one again: already obeyed, nothing new
    await expect(agent.bundles.withdraw(genuine)).resolves.toBeUndefined();

    const other = 'b-0123456789abcdef';
    const tampered = { ...genuine, bundleId: other };
    await expect(agent.bundles.withdraw(tampered)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });

    const { signatures: _s, ...body } = genuine;
    const stranger = generateKeyPair();
    const forged = addSignature({ ...body, id: 'r-forged', bundleId: other }, stranger.privateKey);
    await expect(agent.bundles.withdraw(forged)).rejects.toMatchObject({ code: 'KEY_UNKNOWN' });

    const unsigned = { ...body, id: 'r-unsigned', bundleId: other, signatures: [] };
    await expect(agent.bundles.withdraw(unsigned)).rejects.toMatchObject({ code: 'ROLE_NOT_AUTHORISED' });

    await expect(agent.bundles.withdraw({ type: 'loa-recall', bundleId: other })).rejects.toMatchObject({
      code: 'RECALL_MALFORMED',
    });
    expect(agent.bundles.recalled().map((r) => r.bundleId)).not.toContain(other);
  }, 60_000);
});
