/**
 * The technician's test tone routine through the player: the real amplifier service (simulated
 * GPIO), the real proof journal, and either the simulated driver (sequencing, emergencies) or
 * real ffmpeg into a WAV sink (the level at the line output, whatever the station volume).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, onTestFinished, test } from 'vitest';
import { OUTPUT_PROFILE_DEFAULTS } from '../../agent/src/config-output.js';
import { outputChain } from '../../agent/src/domain/output-profile.js';
import type { PlanBundle } from '../../agent/src/domain/scheduler/types.js';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { SimAudioDriver } from '../../agent/src/drivers/audio/sim.js';
import { hashPassword } from '../../agent/src/http/password.js';
import { createTechnicianApp } from '../../agent/src/http/technician.js';
import { localPageUrl } from '../../agent/src/http/technician-client.js';
import { toneRoutineRunner } from '../../agent/src/services/station/tone-routine.js';
import { TechnicianPage } from '../../agent/src/services/system/technician-page.js';
import { readWav, soundRuns } from './audio/wav-tools.js';
import { type Harness, makeHarness, waitFor } from './player-harness.js';
import { bundle } from './scheduler/fixtures.js';
import { spawnTs } from './services/helpers.js';
import { toneItem, withDir } from './tone-items.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const iso = (ms: number) => new Date(ms).toISOString();
const RATE = 48_000;
const fm = OUTPUT_PROFILE_DEFAULTS['fm-exciter'];

/** An emergency bundle that plays at once (any hour: emergencies ignore quiet hours). */
async function emergency(dir: string, seconds: number): Promise<PlanBundle> {
  const item = { ...(await toneItem(dir, 'warn', 660, seconds)), priority: 'emergency' as const };
  return withDir(
    bundle(
      {
        id: 'flood',
        channel: 'emergency',
        created: iso(Date.now() - 60_000),
        items: [item],
        schedule: [{ id: 'now', items: ['warn'], rule: { type: 'immediate' } }],
      },
      Date.now(),
    ),
    dir,
  );
}

describe('test tone routine through the player', () => {
  test('plays as one item with the amplifier switched on first, and its proofs', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const run = toneRoutineRunner({ player: h.player, profile: fm, rate: RATE });
    const steps = await run({ referenceS: 2, leftRight: true, sweep: false, stepS: 1 });
    expect(steps.map((s) => s.channel)).toEqual(['both', 'left', 'right']);
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'), 30_000);
    const proofs = await h.proofs();
    expect(proofs.map((p) => `${p.itemId}:${p.outcome}`)).toEqual([
      'test-tone:started',
      'test-tone:completed',
    ]);
    expect(proofs[1]!.relays.amplifier).toBe(true);
    // The driver was asked for the routine: every step, at unity gain.
    const seg = audio.history.find((s) => s.input.kind === 'tone');
    expect(seg?.input).toMatchObject({
      kind: 'tone',
      steps: steps.map((s) => ({ levelDbfs: s.levelDbfs, channel: s.channel })),
    });
    expect(seg?.volume).toBe(100);
    expect(seg?.gainDb).toBe(0);
    const ampOn = h.gpio.writesOf('amplifier').find((w) => w.active)!;
    expect(ampOn.at).toBeLessThanOrEqual(Date.parse(proofs[0]!.startedAt!));
  });

  test('refused while an emergency plays; an emergency that comes meanwhile cuts the routine', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const run = toneRoutineRunner({ player: h.player, profile: fm, rate: RATE });
    h.player.setBundles([await emergency(h.dir, 3)]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'warn', 30_000);
    await expect(run({ referenceS: 5, leftRight: false, sweep: false })).rejects.toMatchObject({
      code: 'EMERGENCY_ON_AIR',
    });
    await waitFor(
      async () => (await h!.proofs()).some((p) => p.itemId === 'warn' && p.outcome === 'completed'),
      30_000,
    );
    // Nothing of the refused routine was queued.
    expect((await h.proofs()).some((p) => p.itemId === 'test-tone')).toBe(false);

    // Now a routine plays, and a second emergency cuts into it.
    h.player.setBundles([]);
    await run({ referenceS: 20, leftRight: false, sweep: false });
    await waitFor(() => h!.player.status().onAir?.itemId === 'test-tone', 30_000);
    const again = await emergency(h.dir, 1);
    h.player.setBundles([{ ...again, manifest: { ...again.manifest, id: 'flood-2', version: 2 } }]);
    await waitFor(
      async () => (await h!.proofs()).some((p) => p.itemId === 'test-tone' && p.outcome === 'interrupted'),
      30_000,
    );
    await waitFor(
      async () =>
        (await h!.proofs()).filter((p) => p.itemId === 'warn' && p.outcome === 'completed').length === 2,
      30_000,
    );
  }, 90_000);

  test('bad choices get a stable code and nothing plays', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const run = toneRoutineRunner({ player: h.player, profile: fm, rate: RATE });
    for (const bad of [0, 121, 2.5, Number.NaN])
      await expect(run({ referenceS: bad, leftRight: false, sweep: false })).rejects.toMatchObject({
        code: 'TONE_ROUTINE_INVALID',
      });
    await expect(run({ referenceS: 5, leftRight: true, sweep: false, stepS: 30 })).rejects.toMatchObject({
      code: 'TONE_ROUTINE_INVALID',
    });
    expect(h.player.status().onAir).toBeNull();
    expect(audio.history).toHaveLength(0);
  });

  test('real ffmpeg: the reference tone leaves the line output at the reference level, whatever the station volume', async () => {
    const wavDir = await mkdtemp(join(tmpdir(), 'loa-routine-'));
    onTestFinished(() => rm(wavDir, { recursive: true, force: true }));
    const path = join(wavDir, 'line-out.wav');
    const audio = new FfmpegAudioDriver({
      output: { type: 'wav', path },
      logger: pino({ level: 'silent' }),
      outputChain: outputChain(fm, RATE),
    });
    // A night-time station volume of 40: a technician's tone ignores it.
    h = await makeHarness({ audio, policy: { warmupMs: 300, volume: 40 } });
    await audio.open();
    const run = toneRoutineRunner({ player: h.player, profile: fm, rate: RATE });
    await run({ referenceS: 2, leftRight: false, sweep: false });
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'), 30_000);
    const proofs = await h.proofs();
    const done = proofs.find((p) => p.outcome === 'completed')!;
    // The proof's own measurement: a 1 kHz sine peaking at −18 dBFS.
    expect(done.peakDbfs!).toBeCloseTo(-18, 0);
    await audio.close();
    const wav = await readWav(path);
    const run0 = soundRuns(wav, -60)[0]!;
    const from = Math.round(((run0.startMs + 300) * RATE) / 1000);
    let peak = 0;
    let crossings = 0;
    for (let i = from; i < from + RATE; i++) {
      const x = wav.samples[i] ?? 0;
      peak = Math.max(peak, Math.abs(x));
      if ((wav.samples[i - 1] ?? 0) < 0 && x >= 0) crossings++;
    }
    expect(20 * Math.log10(peak)).toBeCloseTo(-18, 0);
    expect(Math.abs(crossings - 1000)).toBeLessThanOrEqual(2);
  }, 90_000);

  test('technician page: the profile, the alignment advice, the routine started with its steps (or refused) in Vietnamese', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const profile = { ...fm, fullScaleDbu: 18 };
    const player = h.player;
    const app = createTechnicianApp({
      passwordHash: () => hash,
      health: async () =>
        ({
          at: iso(Date.now()),
          seq: 1,
          agentVersion: '0.1.0',
          uptimeS: 60,
          inputs: {},
          relays: h!.amp.relays(),
          onAir: null,
          bundles: [],
          clock: { trusted: true, source: 'ntp' },
        }) as never,
      recentProofs: () => h!.proofs(),
      logs: () => [],
      relayTest: async () => undefined,
      testTone: (sec, hz) => player.testTone(sec, hz, { local: true }),
      deviceLabel: () => 'loa-test-01',
      clock: { now: () => Date.now() },
      lineOut: { profile, run: toneRoutineRunner({ player, profile, rate: RATE }) },
      remoteAddress: () => '192.168.1.20',
    });
    const login = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const page = await (await app.request('/', { headers: { cookie } })).text();
    expect(page).toContain('Máy phát FM (đài truyền thanh không dây)');
    expect(page).toContain('−18,0 dBFS (≈ 0,0 dBu)');
    expect(page).toContain('±13,3 kHz</strong> (17,8 % độ di tần tối đa)');
    expect(page).toContain('tắt tiền nhấn trên máy phát');
    const started = await app.request('/tone-routine', {
      method: 'POST',
      headers: { cookie },
      body: new URLSearchParams({ referenceS: '3', leftRight: '1', sweep: '1' }),
    });
    const html = await started.text();
    expect(html).toContain('Đang phát chuỗi âm thử');
    expect(html).toContain('<tr data-step-hz="1000" data-step-dbfs="-18">');
    expect(html).toContain('Chỉ kênh trái (L)');
    expect(html).toContain('Quét 12 kHz');
    await waitFor(() => player.status().onAir?.itemId === 'test-tone', 30_000);
    player.stopCurrent();
    // During an emergency: refused, said in Vietnamese with its code.
    player.setBundles([await emergency(h.dir, 3)]);
    await waitFor(() => player.status().onAir?.itemId === 'warn', 30_000);
    const refused = await (
      await app.request('/tone-routine', {
        method: 'POST',
        headers: { cookie },
        body: new URLSearchParams({ referenceS: '3' }),
      })
    ).text();
    expect(refused).toContain('Không phát được âm thử: Đang phát tin khẩn cấp');
    expect(refused).toContain('EMERGENCY_ON_AIR');
    const bad = await (
      await app.request('/tone-routine', {
        method: 'POST',
        headers: { cookie },
        body: new URLSearchParams({ referenceS: 'mười' }),
      })
    ).text();
    expect(bad).toContain('TONE_ROUTINE_INVALID');
  }, 90_000);

  test('loa-agent --test-tone: the routine through the running page from the station’s shell, refused during an emergency', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const player = h.player;
    const profile = OUTPUT_PROFILE_DEFAULTS['wired-line'];
    const page = new TechnicianPage({
      listen: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      deps: {
        passwordHash: () => hash,
        health: async () => ({}) as never,
        recentProofs: async () => [],
        logs: () => [],
        relayTest: async () => undefined,
        testTone: async () => undefined,
        deviceLabel: () => 'loa-test-01',
        clock: { now: () => Date.now() },
        lineOut: { profile, run: toneRoutineRunner({ player, profile, rate: RATE }) },
      },
    });
    await page.start();
    onTestFinished(() => page.stop());
    const cfg = join(h.dir, 'agent.json');
    await writeFile(
      cfg,
      JSON.stringify({
        device: { dataDir: 'data' },
        trust: { rootKeys: ['root.pub.pem'] },
        hardware: { amplifier: { pin: 17 } },
        technician: { enabled: true, listen: '0.0.0.0', port: page.port },
      }),
    );
    expect(localPageUrl('0.0.0.0', 8080)).toBe('http://127.0.0.1:8080');
    const cli = (args: string[], password: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawnTs('agent/src/main.ts', ['--config', cfg, ...args]);
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
        });
        child.on('exit', (code) => resolve({ code, out, err }));
        child.stdin.end(`${password}\n`);
      });
    const ok = await cli(['--test-tone', '3', '--sweep'], 'ky-thuat-vien-1');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('Đường ra: Âm ly truyền thanh hữu tuyến');
    expect(ok.out).toContain('Âm chuẩn 1 kHz, −18,0 dBFS: 1 kHz, hai kênh, −18,0 dBFS');
    expect(ok.out).toContain('Quét 200 Hz');
    expect(ok.out).not.toContain('Quét 100 Hz');
    await waitFor(() => player.status().onAir?.itemId === 'test-tone', 30_000);
    player.stopCurrent();
    const wrong = await cli(['--test-tone', '3'], 'sai-mat-khau');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('TECHNICIAN_LOGIN_FAILED');
    // A long emergency: it is still on air when the command (a new process) asks.
    player.setBundles([await emergency(h.dir, 60)]);
    await waitFor(() => player.status().onAir?.itemId === 'warn', 30_000);
    const refused = await cli(['--test-tone', '3'], 'ky-thuat-vien-1');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('EMERGENCY_ON_AIR: Đang phát tin khẩn cấp');
  }, 120_000);
});

const hash = await hashPassword('ky-thuat-vien-1');
