/**
 * A short spoken emergency reaches the station inside the signed MQTT message, so it plays with
 * no HTTP download (a weak 4G link): the fleet server in this process (real aedes, espeak-ng and
 * ffmpeg), the real agent (startAgent, real ffmpeg decoding into a WAV sink), on 127.0.0.1.
 * The server's public URL, from which stations fetch blobs, points at a listener that counts and
 * drops every connection:
 *   1. a short alert plays (signed proofs, sound in the WAV) and the station never connected to it;
 *   2. a long alert (over the inline cap) is not carried: the station goes for the download, and
 *      plays once the listener passes connections on to the server again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetServer } from '@loa/fleet-server';
import { generateKeyPair, type Manifest, type Proof } from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRuntime } from '../../agent/src/main.js';
import type { FleetApi } from '../../scripts/src/sim/fleet-api.js';
import { soundRuns } from '../agent/audio/wav-tools.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { readLiveWav } from './helpers/live-wav.js';
import { type Province, type Station, startProvince, startStation } from './helpers/province-station.js';

const COMMUNE = '08/02500';
const dir = mkdtempSync(join(tmpdir(), 'loa-emergency-inline-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });

let server: FleetServer | undefined;
let province: Province;
let station: Station | undefined;
let operator: FleetApi;
let deviceId = '';
/**
 * Where blob downloads go during the test: counts connections and closes them unanswered, until
 * `forwardTo` is set (the link is back): then it passes them on to the server's HTTP port.
 */
let sink: Server;
let sinkConnections = 0;
let sinkUrl = '';
let forwardTo: number | undefined;

interface ProofEntry {
  proof: Proof;
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
  ({ operator } = province);
  station = await startStation({
    dir: join(dir, 'station'),
    serverUrl: province.server.url,
    root,
    token: province.token,
    logger: log.child({ side: 'agent' }),
  });
  sink = createServer((socket) => {
    if (forwardTo === undefined) {
      sinkConnections++;
      socket.destroy();
      return;
    }
    const upstream = connect(forwardTo, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const addr = sink.address();
  sinkUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}, 120_000);

afterAll(async () => {
  await station?.rt.stop();
  await server?.stop();
  await new Promise((r) => sink?.close(r));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function proofOf(bundleId: string, outcome: string): Promise<Proof | undefined> {
  const rows = await operator.get<ProofEntry[]>(`/devices/${deviceId}/proofs?limit=1000`);
  return rows.find((e) => e.proof.bundleId === bundleId && e.proof.outcome === outcome)?.proof;
}

async function sendEmergency(title: string, text: string): Promise<Manifest> {
  const view = await operator.post<{ bundle: { manifest: Manifest } }>('/emergency', {
    unit: COMMUNE,
    title,
    text,
    repeat: 1,
    gapSeconds: 0,
  });
  return view.bundle.manifest;
}

describe('an emergency carried inside the MQTT message (real agent, real ffmpeg)', () => {
  it('the station is enrolled and online', async () => {
    const agent = station?.rt as AgentRuntime;
    const creds = await eventually(() => agent.enrolment.credentials(), 60_000, 100);
    deviceId = creds.deviceId;
    await eventually(
      async () => (await operator.get<{ online: boolean }>(`/devices/${deviceId}`)).online || undefined,
      60_000,
      100,
    );
    // from now on, every blob download of this server goes to the counting sink
    (server as FleetServer).deps.config.publicUrl = sinkUrl;
  }, 90_000);

  it('a short spoken alert plays with no HTTP download at all', async () => {
    const m = await sendEmergency(
      'Cảnh báo lũ quét',
      'Cảnh báo khẩn cấp. Lũ quét tại thượng nguồn suối. Bà con di chuyển lên nơi cao, an toàn.',
    );
    const started = await eventually(() => proofOf(m.id, 'started'), 90_000, 200);
    expect(started).toMatchObject({ priority: 'emergency', contentSha256: m.items[0]?.blob?.sha256 });
    expect(started.relays.amplifier).toBe(true);
    const done = await eventually(() => proofOf(m.id, 'completed'), 90_000, 200);
    expect(sinkConnections).toBe(0);
    // the speech is in the station's output, after the moment the proof says it started
    const wav = await readLiveWav((station as Station).wavPath);
    const pos = (station as Station).wavPosition(Date.parse(started.startedAt ?? ''));
    const playedMs = Date.parse(done.endedAt ?? '') - Date.parse(started.startedAt ?? '');
    const spoken = soundRuns(wav, -40, 10, 300)
      .filter((r) => r.endMs > pos.ms - 1000 - pos.slackMs)
      .reduce((n, r) => n + r.endMs - r.startMs, 0);
    expect(spoken).toBeGreaterThan(playedMs * 0.5);
  }, 180_000);

  it('a long alert over the inline cap is downloaded, and plays once the blob URL answers', async () => {
    const sentence =
      'Thông báo khẩn cấp của Ban chỉ huy phòng chống thiên tai xã Sơn Dương. Mưa lớn kéo dài gây ' +
      'lũ quét và sạt lở đất tại các thôn ven suối. Đề nghị bà con không qua ngầm tràn, không ở lại ' +
      'trong nhà ven taluy, di chuyển người già và trẻ em đến điểm tránh trú an toàn của thôn. ';
    const before = sinkConnections;
    const m = await sendEmergency('Thông báo dài', sentence.repeat(3));
    expect(m.items[0]?.blob?.size).toBeGreaterThan(64 * 1024);
    // the station went for the download (the message did not carry the audio)
    await eventually(() => (sinkConnections > before ? true : undefined), 60_000, 100);
    expect(await proofOf(m.id, 'started')).toBeUndefined();
    // the link is back: the station's next attempt (it backs off and retries) fetches it and plays
    forwardTo = (server as FleetServer).httpPort;
    const started = await eventually(() => proofOf(m.id, 'started'), 120_000, 200);
    expect(started).toMatchObject({ priority: 'emergency', contentSha256: m.items[0]?.blob?.sha256 });
  }, 240_000);
});
