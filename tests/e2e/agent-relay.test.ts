/**
 * Live relays end to end on the station side: the player, the amplifier service and the proof
 * journal with real ffmpeg into a WAV sink. A local Icecast-style HTTP source streams MP3 made
 * by ffmpeg in real time; it dies mid-item and the item's fallback chain takes over (the FM
 * module, tuned through its serial line protocol, heard through the FM capture input); an FM
 * item tunes the module to its frequency and level; an FM item without signal falls back to its
 * cached recording. The WAV shows the switches, the signed proofs name them with their reasons.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSignatures, keyId } from '@loa/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PlanBundle } from '../../agent/src/domain/scheduler/types.js';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { FmCapture } from '../../agent/src/drivers/fm/capture.js';
import { createRda5807Tuner } from '../../agent/src/drivers/fm/rda5807.js';
import { SimFmDevice, SimFmTransport } from '../../agent/src/drivers/fm/sim.js';
import { frequencyAt, makeTone, readWav, soundRuns } from '../agent/audio/wav-tools.js';
import { type Harness, makeHarness, waitFor } from '../agent/player-harness.js';
import { bundle } from '../agent/scheduler/fixtures.js';

let h: Harness | undefined;
let out: string;
let server: Server | undefined;
let encoder: ChildProcess | undefined;
const sockets = new Set<Socket>();

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'loa-e2e-relay-'));
});
afterAll(async () => {
  encoder?.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  server?.close();
  await h?.close();
  await rm(out, { recursive: true, force: true });
});

/**
 * An Icecast-compatible source: every listener gets the same live MP3 stream, encoded by ffmpeg
 * in real time from a 440 Hz tone (as a studio encoder would feed a mount point).
 */
async function icecastSource(): Promise<{ url: string; kill: () => void }> {
  const listeners = new Set<ServerResponse>();
  encoder = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi'],
      ...['-i', 'sine=frequency=440:sample_rate=44100', '-af', 'volume=-6dB'],
      ...['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3', '-'],
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // Like Icecast's burst-on-connect: a new listener first gets the last ~1 s of the stream.
  let burst = Buffer.alloc(0);
  encoder.stdout!.on('data', (chunk: Buffer) => {
    burst = Buffer.concat([burst, chunk]).subarray(-8192);
    for (const res of listeners) res.write(chunk);
  });
  server = createServer((req, res) => {
    if (req.url !== '/vov1') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'icy-name': 'VOV1', 'cache-control': 'no-cache' });
    res.write(burst);
    listeners.add(res);
    res.on('close', () => listeners.delete(res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vov1`;
  return {
    url,
    // The source dies: the encoder stops, every connection drops, the port refuses.
    kill: () => {
      encoder?.kill('SIGKILL');
      server?.close();
      for (const s of sockets) s.destroy();
    },
  };
}

async function blob(dir: string, src: string): Promise<{ sha256: string; size: number }> {
  const data = await readFile(src);
  const sha256 = createHash('sha256').update(data).digest('hex');
  await mkdir(join(dir, 'blobs'), { recursive: true });
  await writeFile(join(dir, 'blobs', sha256), data);
  return { sha256, size: data.length };
}

describe('live relay e2e (Icecast-style source, FM module, real ffmpeg → WAV sink)', () => {
  test('a stream item plays at its slot, its source dies, the FM fallback takes over within 2 s; FM items tune the module or fall back to the recording', async () => {
    const wavOut = join(out, 'station.wav');
    // The FM module's audio comes in through the capture input: a 300 Hz tone stands for it.
    const audio = new FfmpegAudioDriver({
      output: { type: 'wav', path: wavOut },
      inputs: { fm: { format: 'lavfi', device: 'sine=frequency=300:sample_rate=48000' } },
      logger: pino({ level: 'silent' }),
    });
    const fmDevice = new SimFmDevice();
    const { tuner } = createRda5807Tuner(new SimFmTransport({ device: fmDevice }), {
      logger: pino({ level: 'silent' }),
    });
    await tuner.start();
    const fm = new FmCapture({ tuner, logger: pino({ level: 'silent' }), homeMHz: 96.5 });
    const alerts: { code: string; message: string }[] = [];
    const fmSeen: { freq: number; volume: number; muted: boolean }[] = [];
    const warmupMs = 500;
    h = await makeHarness({
      audio,
      warmupMs,
      idleTailMs: 20_000,
      policy: { warmupMs, volume: 100 },
      player: { fm, onAlert: (code, message) => alerts.push({ code, message }) },
    });
    const dir = h.dir;
    const recordingSrc = join(dir, 'ban-tin-ghi-san.wav');
    await makeTone(recordingSrc, 880, 10);
    const recording = { ...(await blob(dir, recordingSrc)), mediaType: 'audio/wav' };
    const source = await icecastSource();

    const T = Date.now() + 3000;
    const at = (ms: number) => new Date(T + ms).toISOString();
    const relay: PlanBundle = {
      ...bundle({
        id: 'tiep-song',
        channel: 'live',
        created: new Date(Date.now() - 60_000).toISOString(),
        items: [
          {
            id: 'vov1',
            title: 'Tiếp sóng VOV1',
            kind: 'stream',
            priority: 'normal',
            lang: 'vi',
            url: source.url,
            format: 'mp3',
            durationMs: 9000,
            relay: {
              failoverMs: 500,
              fallback: [
                { type: 'fm', frequencyMHz: 96.5 },
                { type: 'recording', blob: recording },
              ],
            },
          },
          {
            id: 'fm-tinh',
            title: 'Tiếp sóng FM đài tỉnh',
            kind: 'fm',
            priority: 'normal',
            lang: 'vi',
            fm: { frequencyMHz: 98.9, level: 10 },
            durationMs: 5000,
          },
          {
            id: 'fm-yeu',
            title: 'Tiếp sóng FM sóng yếu',
            kind: 'fm',
            priority: 'normal',
            lang: 'vi',
            fm: { frequencyMHz: 91.0 },
            durationMs: 4000,
            relay: { fallback: [{ type: 'recording', blob: recording }] },
          },
        ],
        schedule: [
          { id: 'sang', items: ['vov1'], rule: { type: 'once', at: at(0) } },
          { id: 'fm', items: ['fm-tinh'], rule: { type: 'once', at: at(10_500) } },
          { id: 'fm-yeu', items: ['fm-yeu'], rule: { type: 'once', at: at(16_500) } },
        ],
      }),
      blobDir: join(dir, 'blobs'),
    };
    h.player.setBundles([relay]);

    // On air from the stream; 3 s into it the source dies.
    const onAir = await waitFor(() => {
      const a = h!.player.status().onAir;
      return a?.itemId === 'vov1' ? a : undefined;
    });
    expect(onAir.source).toBe('stream');
    await waitFor(() => Date.now() >= Date.parse(onAir.since) + 3000, 10_000, 5);
    source.kill();
    // What health reports on air, sampled while the items play.
    const seen: { item?: string; source?: string; reason?: string }[] = [];
    const sampler = setInterval(() => {
      const a = h!.player.status().onAir;
      const last = seen.at(-1);
      if (a && (last?.item !== a.itemId || last?.source !== a.source))
        seen.push({ item: a.itemId, source: a.source, reason: a.sourceReason });
    }, 50);
    // While the FM item plays, the module is tuned to it, at its level, unmuted.
    await waitFor(() => h!.player.status().onAir?.itemId === 'fm-tinh', 20_000);
    await waitFor(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return fmDevice.state().freq === 9890 ? true : undefined;
    });
    fmSeen.push(fmDevice.state());
    await waitFor(async () => {
      const ps = await h!.proofs();
      return ps.some((p) => p.itemId === 'fm-yeu' && p.outcome !== 'started') ? true : undefined;
    }, 30_000);
    clearInterval(sampler);
    await audio.close();
    // Health named the source on air, and why the fallback was taken.
    expect(seen.find((x) => x.item === 'vov1')?.source).toBe('stream');
    const fallback = seen.find((x) => x.item === 'vov1' && x.source === 'fm')!;
    expect(fallback).toBeDefined();
    expect(fallback.reason).toBeTruthy();

    // The proofs: signed, the switch and its reason on the stream item, FM_NO_SIGNAL on the weak one.
    const proofs = await h.proofs();
    for (const p of proofs)
      expect(
        checkSignatures(p, (id) => (id === keyId(h!.publicKey) ? h!.publicKey : undefined)).valid,
      ).toHaveLength(1);
    const vov = proofs.find((p) => p.itemId === 'vov1' && p.outcome !== 'started')!;
    expect(vov.outcome).toBe('completed');
    expect(vov.priority).toBe('live');
    expect(vov.switches?.[0]).toMatchObject({ to: 'fm' });
    expect(vov.switches?.[0]?.reason).toBe(fallback.reason);
    expect(vov.reason).toMatch(/switched to fm/);
    const fmItem = proofs.find((p) => p.itemId === 'fm-tinh' && p.outcome !== 'started')!;
    expect(fmItem.outcome).toBe('completed');
    expect(fmItem.switches ?? []).toEqual([]);
    const weak = proofs.find((p) => p.itemId === 'fm-yeu' && p.outcome !== 'started')!;
    expect(weak.outcome).toBe('completed');
    expect(weak.switches?.[0]).toMatchObject({ to: 'recording' });
    expect(weak.switches?.[0]?.reason).toMatch(/no signal/);
    expect(alerts).toEqual([]);
    // The FM item tuned 98.9 MHz at level 10 and unmuted; afterwards the module is muted and home.
    expect(fmSeen[0]).toMatchObject({ freq: 9890, volume: 10, muted: false });
    expect(fmDevice.state()).toMatchObject({ freq: 9650, muted: true });

    // The WAV: 440 Hz from the stream at the slot, then (after at most 2 s of silence) 300 Hz
    // from the FM fallback until the slot ends; the FM item's 300 Hz; the weak item's 880 Hz.
    const wav = await readWav(wavOut);
    const openedAt = audio.outputOpenedAt()!;
    const runs = soundRuns(wav, -40, 10, 60);
    const streamRun = runs.find(
      (r) => Math.abs(frequencyAt(wav, r.startMs + 100, r.startMs + 600) - 440) < 15,
    )!;
    expect(streamRun).toBeDefined();
    const slotInWav = T - openedAt;
    // A live source has nothing to pre-roll: it connects and probes at its slot (started a little
    // ahead); the machine's load shows in this figure.
    const streamLateMs = streamRun.startMs - slotInWav;
    expect(Math.abs(streamLateMs)).toBeLessThan(1500);
    const after = runs.filter((r) => r.startMs >= streamRun.endMs);
    const fmRun = after[0]!;
    expect(frequencyAt(wav, fmRun.startMs + 200, fmRun.startMs + 800)).toBeCloseTo(300, -1);
    const gapMs = fmRun.startMs - streamRun.endMs;
    console.log(
      `relay: stream on air ${Math.round(streamLateMs)} ms after its slot for ${Math.round(streamRun.endMs - streamRun.startMs)} ms, gap to the FM fallback ${Math.round(gapMs)} ms`,
    );
    expect(gapMs).toBeLessThan(2000);
    const last = runs.at(-1)!;
    expect(frequencyAt(wav, last.endMs - 800, last.endMs - 200)).toBeCloseTo(880, -1);
  }, 90_000);
});
