/**
 * The fleet server and the agent together, as operators and a station see it, every component
 * real on 127.0.0.1: the fleet server in this process (hono on a socket, embedded aedes, file
 * store, content plugin with real ffmpeg/espeak-ng), a province root key that only signs offline
 * (the server knows its public key), users with server-held keys delegated by a policy signed
 * the way `loa trust` signs it, a one-time enrolment token, and the real agent (startAgent:
 * simulated GPIO and modem, real ffmpeg decoding into a WAV sink).
 *
 * 1. A programme: real audio uploaded, a bundle with a `once` slot a few seconds ahead, submitted
 *    by the editor, approved by the approver (two signatures), published. The station downloads
 *    and verifies it (rollout active), plays it at its time (sound in the WAV at the slot), and
 *    its signed, chained proof shows on the server for that device.
 * 2. An emergency to the commune (text spoken by the server): the station plays it at once and
 *    the emergency's live tracking shows the station playing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentPlugin, type FleetServer, startFleetServer } from '@loa/fleet-server';
import {
  addSignature,
  checkSignatures,
  GENESIS_PREV,
  generateKeyPair,
  keyId,
  newTrustPolicy,
  type Proof,
  proofHash,
  publicKeyFromRaw,
  publicKeyToPem,
  rawPublicKey,
  type TrustBody,
  withDelegatedKey,
} from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { type AgentRuntime, startAgent } from '../../agent/src/main.js';
import type { FleetApi } from '../../scripts/src/sim/fleet-api.js';
import { asBootstrapAdmin, createEnrolmentToken, createUsers } from '../../scripts/src/sim/provision.js';
import { frequencyAt, soundRuns } from '../agent/audio/wav-tools.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { readLiveWav, wavOriginMs } from './helpers/live-wav.js';
import { type SseEvent, waitForSse } from './helpers/sse.js';

const COMMUNE = '08/02500';
const dir = mkdtempSync(join(tmpdir(), 'loa-server-agent-'));
const wavPath = join(dir, 'station', 'out.wav');
const root = generateKeyPair();
const logLevel = process.env.LOA_TEST_LOG ?? 'silent';

let server: FleetServer | undefined;
let rt: AgentRuntime | undefined;
let editor: FleetApi;
let approver: FleetApi;
let operator: FleetApi;
let technician: FleetApi;
let deviceId = '';
/** Wall-clock ms of the WAV sink's position 0, and bounds on it from the agent's start. */
let origin: { atMs?: number; notBeforeMs: number; notAfterMs: number };

interface ProofEntry {
  deviceId: string;
  receivedAt: string;
  hash: string;
  proof: Proof;
}

const log = pino({ level: logLevel });

beforeAll(async () => {
  // --- 1. The fleet server, with the province root pinned by its public key only.
  server = await startFleetServer({
    config: {
      dataDir: join(dir, 'server'),
      httpPort: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
    },
    logger: log.child({ side: 'server' }),
    plugins: [contentPlugin()],
  });
  const srv = server;
  const bootstrap = srv.bootstrap;
  if (!bootstrap) throw new Error('a fresh data directory must create the first administrator');
  let token = '';
  await asBootstrapAdmin(srv, bootstrap, async (admin) => {
    await admin.post('/units/import', {
      format: 'json',
      data: [
        { code: '08', name: 'Tuyên Quang', level: 'province', demo: true },
        { code: '02500', name: 'Sơn Dương', level: 'commune', parent: '08', demo: true },
      ],
    });
    const users = await createUsers(srv, admin, [
      {
        username: 'bientap',
        displayName: 'Biên tập xã',
        role: 'editor',
        scope: [COMMUNE],
        signingRoles: ['content'],
      },
      {
        username: 'pheduyet',
        displayName: 'Phê duyệt xã',
        role: 'approver',
        scope: [COMMUNE],
        signingRoles: ['content'],
      },
      {
        username: 'vanhanh',
        displayName: 'Trực ban xã',
        role: 'operator',
        scope: [COMMUNE],
        signingRoles: ['emergency'],
      },
      { username: 'kythuat', displayName: 'Kỹ thuật viên', role: 'technician', scope: [COMMUNE] },
    ]);
    const [ed, ap, op, tech] = users;
    if (!ed?.signingKey || !ap?.signingKey || !op?.signingKey || !tech) throw new Error('users not created');
    editor = ed.api;
    approver = ap.api;
    operator = op.api;
    technician = tech.api;
    // Offline, as `loa trust init` / `loa trust add` do: each step re-signed by the root key.
    const created = new Date(Date.now() - 60_000);
    let policy: TrustBody = newTrustPolicy({
      rootKeys: [root.privateKey],
      thresholds: { content: 2, emergency: 1 },
      created,
      expires: new Date(Date.now() + 30 * 86_400_000),
    });
    const delegations = [
      { user: ed, roles: ['content' as const], name: 'Biên tập xã 02500' },
      { user: ap, roles: ['content' as const], name: 'Phê duyệt xã 02500' },
      { user: op, roles: ['emergency' as const], name: 'Trực ban xã 02500' },
    ];
    for (const d of delegations)
      policy = withDelegatedKey(
        policy,
        {
          publicKey: publicKeyFromRaw(d.user.signingKey?.publicKey ?? ''),
          roles: d.roles,
          scope: [COMMUNE],
          name: d.name,
        },
        created,
      );
    const signed = addSignature({ ...policy, signatures: [] }, root.privateKey);
    await admin.put('/trust', signed);
    // The technician makes the station's one-time enrolment token.
    token = await createEnrolmentToken(tech.api, { unit: COMMUNE, kind: 'station', maxUses: 1 });
  });

  // --- 2. The station: simulated GPIO and modem, real ffmpeg into a WAV file.
  const stationDir = join(dir, 'station');
  execFileSync('mkdir', ['-p', stationDir]);
  writeFileSync(join(stationDir, 'root.pub'), publicKeyToPem(root.publicKey));
  writeFileSync(join(stationDir, 'provisioning.json'), JSON.stringify({ enrolmentToken: token }));
  const config = parseConfig(
    {
      device: { dataDir: 'data', name: 'Cụm loa chợ Sơn Dương' },
      fleet: { url: srv.url, provisioningFile: 'provisioning.json', healthIntervalS: 5 },
      trust: { rootKeys: ['root.pub'] },
      hardware: {
        gpio: { driver: 'sim' },
        amplifier: { pin: 17, warmupMs: 1000, idleTailMs: 1500 },
        zones: { cho: { pin: 27 } },
        inputs: { mains: { pin: 5 }, door: { pin: 6 } },
        modem: { driver: 'sim', pollIntervalS: 5 },
      },
      audio: { driver: 'real', output: { type: 'wav', path: 'out.wav' } },
      technician: { enabled: false },
      log: { level: logLevel },
    },
    stationDir,
  );
  const before = Date.now();
  rt = await startAgent(config, { logger: log.child({ side: 'agent' }), env: {} });
  origin = { notBeforeMs: before, notAfterMs: Date.now() };
  const at = await wavOriginMs(wavPath);
  if (at !== undefined) origin.atMs = at;
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Where a wall-clock instant falls in the WAV (ms), with the uncertainty of the file's origin. */
function wavPosition(wallMs: number): { ms: number; slackMs: number } {
  if (origin.atMs !== undefined) return { ms: wallMs - origin.atMs, slackMs: 0 };
  // No birth time on this file system: the sink opened while startAgent() ran.
  const mid = (origin.notBeforeMs + origin.notAfterMs) / 2;
  return { ms: wallMs - mid, slackMs: (origin.notAfterMs - origin.notBeforeMs) / 2 };
}

async function proofsOf(id: string): Promise<ProofEntry[]> {
  const rows = await operator.get<ProofEntry[]>(`/devices/${id}/proofs?limit=1000`);
  return [...rows].sort((a, b) => a.proof.seq - b.proof.seq);
}

describe('fleet server and agent end to end (real ffmpeg, real aedes, 127.0.0.1)', () => {
  it('enrols the station with the one-time token and shows it online', async () => {
    const agent = rt as AgentRuntime;
    const creds = await eventually(() => agent.enrolment.credentials(), 60_000, 100);
    deviceId = creds.deviceId;
    expect(creds.unit).toBe(COMMUNE);
    const dev = await eventually(
      async () => {
        const d = await operator.get<{ online: boolean; presence: { state: string } | null; unit: string }>(
          `/devices/${deviceId}`,
        );
        return d.online && d.presence?.state === 'online' ? d : undefined;
      },
      60_000,
      100,
    );
    expect(dev.unit).toBe(COMMUNE);
    // the station holds the province's policy from enrolment; the one-time token is spent
    const health = await agent.health.collect();
    expect(health.trustVersion).toBe(4);
    const tokens = await technician.get<{ unit: string; uses: number; usable: boolean }[]>('/enrol-tokens');
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({ unit: COMMUNE, uses: 1, usable: false });
  }, 90_000);

  it('plays a published programme at its time, and its signed proof shows on the server', async () => {
    // Real audio: a 3 s, 1 kHz tone encoded by ffmpeg, transcoded and normalised by the server.
    const src = join(dir, 'thong-bao.wav');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=1000:duration=3:sample_rate=44100',
      '-ac',
      '1',
      src,
    ]);
    const q = new URLSearchParams({
      title: 'Thông báo lịch tiêm chủng',
      unit: COMMUNE,
      lang: 'vi',
      name: 'thong-bao.wav',
    });
    const content = await editor.call<{ id: string; sha256: string; durationMs: number }>(
      'post',
      `/content/upload?${q}`,
      undefined,
      { raw: readFileSync(src), contentType: 'audio/wav' },
    );
    expect(content.sha256).toMatch(/^[0-9a-f]{64}$/);
    const T = Date.now() + 15_000;
    const at = new Date(T).toISOString();
    const draft = await editor.post<{ id: string; version: number }>('/bundles', {
      channel: 'xa-02500',
      targets: [{ unit: COMMUNE }],
      items: [{ content: content.id, id: 'tiem-chung' }],
      schedule: [{ id: 'mot-lan', items: ['tiem-chung'], rule: { type: 'once', at } }],
    });
    await editor.post(`/bundles/${draft.id}/submit`, { sign: true });
    const approved = await approver.post<{ state: string; manifest: { signatures: unknown[] } }>(
      `/bundles/${draft.id}/approve`,
      { sign: true },
    );
    expect(approved.manifest.signatures).toHaveLength(2);
    const published = await approver.post<{ state: string }>(`/bundles/${draft.id}/publish`);
    expect(published.state).toBe('published');
    expect(Date.now()).toBeLessThan(T - 3000); // the slot is still ahead: this run can check timing

    // Downloaded and verified: the rollout view reaches active for this device.
    const rollout = await eventually(
      async () => {
        const r = await approver.get<{ devices: { deviceId: string; state: string }[] }>(
          `/bundles/${draft.id}/rollout`,
        );
        const st = r.devices.find((d) => d.deviceId === deviceId)?.state;
        return st === 'active' || st === 'playing' ? st : undefined;
      },
      60_000,
      100,
    );
    expect(['active', 'playing']).toContain(rollout);
    expect(rt?.bundles.active().some((b) => b.id === draft.id)).toBe(true);

    // Played, and the completed proof is on the server for this device.
    const done = await eventually(
      async () =>
        (await proofsOf(deviceId)).find(
          (e) => e.proof.bundleId === draft.id && e.proof.outcome === 'completed',
        ),
      60_000,
      200,
    );
    const entries = await proofsOf(deviceId);
    const started = entries.find(
      (e) => e.proof.bundleId === draft.id && e.proof.outcome === 'started',
    )?.proof;
    expect(started).toBeDefined();
    for (const p of [started as Proof, done.proof]) {
      expect(p).toMatchObject({
        deviceId,
        bundleId: draft.id,
        itemId: 'tiem-chung',
        contentSha256: content.sha256,
        scheduledAt: at,
        priority: 'normal',
        clockTrusted: true,
      });
    }
    expect(done.proof.relays.amplifier).toBe(true);
    expect(done.proof.loudnessLufs).toBeGreaterThan(-40);

    // The chain as the server stored it: every proof signed by the enrolled key, prev = hash of
    // the one before from the first (genesis), no gap, nothing rejected.
    const dev = await operator.get<{ publicKey: string }>(`/devices/${deviceId}`);
    const devKey = publicKeyFromRaw(dev.publicKey);
    const kid = keyId(devKey);
    let prev = GENESIS_PREV;
    entries.forEach((e, i) => {
      expect(e.proof.seq).toBe(i + 1);
      expect(e.proof.prev).toBe(prev);
      expect(e.hash).toBe(proofHash(e.proof));
      expect(checkSignatures(e.proof, (id) => (id === kid ? devKey : undefined)).valid).toHaveLength(1);
      prev = e.hash;
    });
    const live = await operator.get<{ deviceId: string; proofGaps: number; proofsRejected: number }[]>(
      `/live?unit=${encodeURIComponent(COMMUNE)}`,
    );
    expect(live.find((s) => s.deviceId === deviceId)).toMatchObject({ proofGaps: 0, proofsRejected: 0 });

    // The sound in the WAV: at the slot (±200 ms), where the proof says it started, at 1 kHz.
    const wav = await readLiveWav(wavPath);
    const runs = soundRuns(wav, -40, 10, 150);
    const expected = wavPosition(T);
    const run = runs.find((r) => r.startMs >= expected.ms - 2000 - expected.slackMs);
    if (!run) throw new Error(`no sound near ${expected.ms} ms in the WAV (runs: ${JSON.stringify(runs)})`);
    const startedAt = Date.parse((started as Proof).startedAt ?? '');
    const offsets = {
      wavVsSlotMs: run.startMs - expected.ms,
      wavVsProofMs: run.startMs - wavPosition(startedAt).ms,
      proofVsSlotMs: startedAt - T,
      originSlackMs: expected.slackMs,
    };
    console.info('[server-agent] programme timing', JSON.stringify(offsets));
    expect(Math.abs(offsets.wavVsSlotMs)).toBeLessThanOrEqual(200 + expected.slackMs);
    expect(Math.abs(offsets.wavVsProofMs)).toBeLessThanOrEqual(200 + expected.slackMs);
    expect(run.endMs - run.startMs).toBeGreaterThan(2500);
    expect(run.endMs - run.startMs).toBeLessThan(3600);
    expect(frequencyAt(wav, run.startMs + 200, run.endMs - 200)).toBeCloseTo(1000, -1);
  }, 180_000);

  it('an emergency to the commune plays at once, and the live tracking shows the station playing', async () => {
    const sent = Date.now();
    const view = await operator.post<{
      bundle: { id: string };
      devices: { deviceId: string; stage: string }[];
    }>('/emergency', {
      unit: COMMUNE,
      title: 'Cảnh báo lũ quét',
      text:
        'Cảnh báo khẩn cấp. Lũ quét đang xảy ra tại thượng nguồn suối. Đề nghị bà con khẩn trương ' +
        'di chuyển đến nơi cao ráo, an toàn, không qua ngầm tràn.',
      repeat: 1,
      gapSeconds: 0,
    });
    const published = Date.now();
    const id = view.bundle.id;
    expect(view.devices.map((d) => d.deviceId)).toContain(deviceId);

    // The live tracking (server-sent events, as the dashboard shows it) sees the station playing.
    const seen: SseEvent[] = [];
    const headers = { authorization: `Bearer ${operator.token}` };
    const playing = await waitForSse(
      `${operator.baseUrl}/api/v1/emergency/${id}/events`,
      headers,
      (e) => stageOf(e, deviceId) === 'playing',
      60_000,
      seen,
    );
    expect(playing.event === 'device' || playing.event === 'snapshot').toBe(true);

    // The signed proof with priority emergency, started at once.
    const started = await eventually(
      async () =>
        (await proofsOf(deviceId)).find((e) => e.proof.bundleId === id && e.proof.outcome === 'started'),
      60_000,
      200,
    );
    expect(started.proof).toMatchObject({ priority: 'emergency', deviceId, clockTrusted: true });
    expect(started.proof.relays.amplifier).toBe(true);
    const startedAt = Date.parse(started.proof.startedAt ?? '');
    const done = await eventually(
      async () =>
        (await proofsOf(deviceId)).find((e) => e.proof.bundleId === id && e.proof.outcome === 'completed'),
      90_000,
      200,
    );
    const tracked = await operator.get<{ devices: { deviceId: string; stage: string; plays: number }[] }>(
      `/emergency/${id}`,
    );
    expect(tracked.devices.find((d) => d.deviceId === deviceId)).toMatchObject({
      stage: 'completed',
      plays: 1,
    });

    // The speech is in the WAV where the proof says it started.
    const wav = await readLiveWav(wavPath);
    const pos = wavPosition(startedAt);
    const runs = soundRuns(wav, -40, 10, 300).filter((r) => r.endMs > pos.ms - 1000 - pos.slackMs);
    const first = runs[0];
    if (!first) throw new Error(`no sound after ${pos.ms} ms in the WAV`);
    const spoken = runs.reduce((s, r) => s + r.endMs - r.startMs, 0);
    const timing = {
      publishMs: published - sent,
      publishedToStartMs: startedAt - published,
      wavVsProofMs: first.startMs - pos.ms,
      spokenMs: spoken,
      playedMs: Date.parse(done.proof.endedAt ?? '') - startedAt,
    };
    console.info('[server-agent] emergency timing', JSON.stringify(timing));
    // "At once": no schedule wait; download, verification and decoder start only (loaded 2-core machine).
    expect(timing.publishedToStartMs).toBeLessThan(15_000);
    expect(Math.abs(timing.wavVsProofMs)).toBeLessThanOrEqual(200 + pos.slackMs);
    expect(spoken).toBeGreaterThan(timing.playedMs * 0.5);
  }, 180_000);
});

function stageOf(e: SseEvent, id: string): string | undefined {
  const data = JSON.parse(e.data) as {
    device?: { deviceId: string; stage: string };
    devices?: { deviceId: string; stage: string }[];
  };
  if (e.event === 'device') return data.device?.deviceId === id ? data.device.stage : undefined;
  if (e.event === 'snapshot') return data.devices?.find((d) => d.deviceId === id)?.stage;
  return undefined;
}
