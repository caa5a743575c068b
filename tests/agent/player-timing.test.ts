/**
 * The player's timing and gain on the real driver: real ffmpeg decoding real audio into a WAV
 * sink (a sound's position in the file is when it came out), the real amplifier service on the
 * simulated GPIO and the real proof journal. Positions in the file are deterministic, so these
 * are correctness checks of where the audio lands, not of wall-clock speed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Item } from '@loa/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegAudioDriver } from '../../agent/src/drivers/audio/ffmpeg.js';
import { Player } from '../../agent/src/services/playback/player.js';
import { expectStartAtSlot, LATE_MS } from '../helpers/timing.js';
import { frequencyAt, makeTone, readWav, rmsWindows, soundRuns, type Wav } from './audio/wav-tools.js';
import { type Harness, makeHarness, waitFor } from './player-harness.js';
import { bundle } from './scheduler/fixtures.js';
import { position, toneItem, withDir } from './tone-items.js';

let h: Harness | undefined;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-timing-'));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real driver writing a WAV sink in the test's directory. */
function wavDriver(name: string): { audio: FfmpegAudioDriver; path: string } {
  const path = join(dir, `${name}.wav`);
  return {
    audio: new FfmpegAudioDriver({
      output: { type: 'wav', path },
      logger: pino({ level: process.env.LOA_TEST_LOG ?? 'silent' }),
    }),
    path,
  };
}

/** Stops the player (the sink closes) and reads the WAV. */
async function finish(path: string): Promise<Wav> {
  await h?.close();
  h = undefined;
  return readWav(path);
}

/**
 * Waits until the item on air has played for `ms`, counted from when its sound began (its proof's
 * instant), not from its slot: on a starved run the sound can begin a second or more late.
 */
async function playedFor(ms: number): Promise<void> {
  const onAir = await waitFor(() => h!.player.status().onAir);
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(onAir.since) + ms - Date.now())));
}

type Run = { startMs: number; endMs: number };
const iso = (ms: number) => new Date(ms).toISOString();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * A 4 s 440 Hz item ("talk") scheduled 2 s from now, cut after `playedMs` of sound by a 1 s 880 Hz
 * emergency ("warn"); resolves with the instant the emergency was handed to the player.
 */
async function cutByEmergency(
  harness: Harness,
  onInterrupt: 'resume' | 'skip',
  playedMs: number,
): Promise<{ acceptedAt: number }> {
  const talk = await toneItem(harness.dir, 'talk', 440, 4);
  const warn = { ...(await toneItem(harness.dir, 'warn', 880, 1)), priority: 'emergency' } as Item;
  const T = Date.now() + 2000;
  const normal = withDir(
    bundle({
      created: iso(Date.now() - 60_000),
      items: [{ ...talk, onInterrupt } as Item],
      schedule: [{ id: 'n', items: ['talk'], rule: { type: 'once', at: iso(T) } }],
    }),
    harness.dir,
  );
  harness.player.setBundles([normal]);
  await waitFor(() => harness.player.status().onAir?.itemId === 'talk');
  await playedFor(playedMs);
  const em = withDir(
    bundle(
      {
        id: 'flood',
        channel: 'emergency',
        created: iso(Date.now() - 60_000),
        items: [warn],
        schedule: [{ id: 'now', items: ['warn'], rule: { type: 'immediate' } }],
      },
      Date.now(),
    ),
    harness.dir,
  );
  const acceptedAt = Date.now();
  harness.player.setBundles([normal, em]);
  return { acceptedAt };
}

function meanDb(wav: Wav, fromMs: number, toMs: number): number {
  const w = rmsWindows(wav, 10).slice(Math.round(fromMs / 10), Math.round(toMs / 10));
  return 10 * Math.log10(w.reduce((s, db) => s + 10 ** (db / 10), 0) / Math.max(1, w.length));
}

describe('player timing on the real driver (ffmpeg → WAV sink)', () => {
  test('scheduled items start at their slot: onsets in the WAV and the proofs agree with it', async () => {
    const { audio, path } = wavDriver('slots');
    h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000 });
    const item = await toneItem(h.dir, 'beep', 880, 0.6);
    const first = Date.now() + 2500;
    const slots = [0, 1, 2, 3, 4].map((i) => first + i * 1400);
    h.player.setBundles([
      withDir(
        bundle({
          created: iso(Date.now() - 60_000),
          items: [item],
          schedule: slots.map((at, i) => ({
            id: `s${i}`,
            items: ['beep'],
            rule: { type: 'once', at: iso(at) },
          })),
        }),
        h.dir,
      ),
    ]);
    await waitFor(
      async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === slots.length,
      30_000,
    );
    const proofs = await h.proofs();
    const wav = await finish(path);
    const runs = soundRuns(wav, -40, 5, 60);
    expect(runs).toHaveLength(slots.length);
    const started = proofs.filter((p) => p.outcome === 'started');
    expect(started).toHaveLength(slots.length);
    const vsSlot = runs.map((r, i) => r.startMs - position(audio, slots[i] as number));
    const vsProof = runs.map((r, i) => r.startMs - position(audio, Date.parse(started[i]?.startedAt ?? '')));
    const proofVsSlot = started.map((p, i) => Date.parse(p.startedAt ?? '') - (slots[i] as number));
    console.info(
      `start accuracy (WAV onset − slot, ms): ${vsSlot.map(Math.round).join(', ')}; median |x| ${median(vsSlot.map(Math.abs)).toFixed(0)}; ` +
        `proof − slot: ${proofVsSlot.join(', ')}; WAV − proof: ${vsProof.map(Math.round).join(', ')}`,
    );
    // Behaviour, not speed (tests/helpers/timing.ts): every sound held to its slot (never early, no
    // slot missed) and where its proof says it began. The accuracy itself (median 5–15 ms on an idle
    // machine, logged above) is the agent benchmark's figure: under load a start can be ~300 ms late.
    for (const [i, x] of vsSlot.entries()) expectStartAtSlot(x, `slot ${i}`);
    for (const x of vsProof) expect(Math.abs(x)).toBeLessThanOrEqual(100);
  }, 60_000);

  test('zone relays switch while the item on air is muted: silence around each switch, then the audio again', async () => {
    const { audio, path } = wavDriver('zones');
    h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000 });
    const item = await toneItem(h.dir, 'talk', 440, 3);
    const T = Date.now() + 2000;
    h.player.setBundles([
      withDir(
        bundle({
          created: iso(Date.now() - 60_000),
          items: [item],
          schedule: [{ id: 'e', items: ['talk'], rule: { type: 'once', at: iso(T) }, zones: ['cho'] }],
        }),
        h.dir,
      ),
    ]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'talk');
    await playedFor(1000);
    // Another zone while the item plays (the amplifier service's own sequencing).
    const asked = Date.now();
    await h.amp.ready(['truong']);
    const readyAt = Date.now();
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'), 20_000);
    const switches = h.gpio.timeline.filter((w) => w.name.startsWith('zone:') && w.at >= asked);
    expect(switches.map((w) => `${w.name}=${w.active}`)).toEqual(['zone:cho=false', 'zone:truong=true']);
    const wav = await finish(path);
    const level = (wallMs: number, halfMs: number) =>
      meanDb(wav, position(audio, wallMs) - halfMs, position(audio, wallMs) + halfMs);
    // Sound before the switch, silence around each relay write, sound again after the unmute.
    expect(level(asked - 300, 100)).toBeGreaterThan(-30);
    expect(level(readyAt + 500, 100)).toBeGreaterThan(-30);
    const runs = soundRuns(wav, -40, 5, 0).filter((r) => r.endMs > position(audio, T) - 100);
    const gap = runs.length > 1 ? (runs[1]?.startMs ?? 0) - (runs[0]?.endMs ?? 0) : 0;
    // Each relay write falls inside the silence the mute made. Relay instants are wall-clock, the
    // silence is found in the WAV: mapping one onto the other drifts by tens of milliseconds when
    // the test run starves the writer of CPU, hence the 50 ms allowance (typical: 45–65 ms into a
    // 90 ms gap, in the log below).
    expect(runs).toHaveLength(2);
    expect(gap).toBeGreaterThanOrEqual(50);
    for (const w of switches) {
      const at = position(audio, w.at);
      expect(at).toBeGreaterThanOrEqual((runs[0]?.endMs ?? 0) - 50);
      expect(at).toBeLessThanOrEqual((runs[1]?.startMs ?? 0) + 50);
    }
    console.info(
      `mute around the zone switch: silent ${Math.round(gap)} ms; relay writes at ${switches
        .map((w) => Math.round(position(audio, w.at) - (runs[0]?.endMs ?? 0)))
        .join(', ')} ms after the audio stopped; ready() took ${readyAt - asked} ms`,
    );
  }, 60_000);

  test('a volume command changes the item on air within a second', async () => {
    const { audio, path } = wavDriver('volume');
    h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000 });
    const item = await toneItem(h.dir, 'talk', 440, 3);
    const T = Date.now() + 2000;
    h.player.setBundles([
      withDir(
        bundle({
          created: iso(Date.now() - 60_000),
          items: [item],
          schedule: [{ id: 'e', items: ['talk'], rule: { type: 'once', at: iso(T) } }],
        }),
        h.dir,
      ),
    ]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'talk');
    await playedFor(1000);
    const commandAt = Date.now();
    h.player.setVolume(25);
    expect(h.player.status().volume).toBe(25);
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'), 20_000);
    const wav = await finish(path);
    const at = position(audio, commandAt);
    const before = meanDb(wav, at - 700, at - 100);
    const after = meanDb(wav, at + 1100, at + 1800);
    // 25 % of unity: -12 dB, applied to the item already playing.
    expect(after - before).toBeGreaterThan(-13);
    expect(after - before).toBeLessThan(-11);
    const w = rmsWindows(wav, 10);
    const landed = w.findIndex((db, i) => i * 10 >= at && db < before - 6) * 10 - at;
    console.info(
      `volume 100 → 25 on air: ${(after - before).toFixed(1)} dB, in the WAV ${landed} ms after the command`,
    );
    expect(landed).toBeGreaterThanOrEqual(0);
    expect(landed).toBeLessThan(1000);
  }, 60_000);

  test('an emergency cuts in: the item on air stops and the chime follows it, then the warning', async () => {
    const { audio, path } = wavDriver('emergency');
    const chime = join(dir, 'chime.wav');
    await makeTone(chime, 1320, 0.5);
    h = await makeHarness({
      audio,
      warmupMs: 300,
      idleTailMs: 20_000,
      policy: { warmupMs: 300, volume: 100, chime: { path: chime, durationMs: 500 } },
    });
    const { acceptedAt } = await cutByEmergency(h, 'skip', 1000);
    await waitFor(async () =>
      (await h!.proofs()).some((p) => p.itemId === 'warn' && p.outcome === 'completed'),
    );
    const proofs = await h.proofs();
    const wav = await finish(path);
    const at = position(audio, acceptedAt);
    // 10 ms windows after the accept: the 440 Hz item, maybe a gap, then the 1320 Hz chime.
    const w = rmsWindows(wav, 10);
    const first = (pred: (i: number) => boolean) => {
      for (let i = Math.ceil(at / 10); i < w.length; i++) if (pred(i)) return i * 10;
      return Number.NaN;
    };
    // The item on air ends where its 440 Hz stops (silence, or the chime straight after it).
    const talkEnd = first((i) => (w[i] ?? -200) < -50 || frequencyAt(wav, i * 10, i * 10 + 10) > 600);
    const chimeStart = first((i) => (w[i] ?? -200) > -40 && frequencyAt(wav, i * 10, i * 10 + 10) > 1000);
    const warnStarted = Date.parse(
      proofs.find((p) => p.itemId === 'warn' && p.outcome === 'started')?.startedAt ?? '',
    );
    console.info(
      `emergency accepted → item on air cut ${talkEnd - at} ms, first chime sound ${chimeStart - at} ms (WAV); ` +
        `warning item started ${warnStarted - acceptedAt} ms after the accept (proof)`,
    );
    // Not cut before the emergency arrived. The accept instant is wall-clock, the cut is found in the
    // WAV: the mapping drifts by tens of ms on a starved run (as in the zone test above).
    expect(talkEnd).toBeGreaterThanOrEqual(at - 50);
    // Cut by the emergency, not left to run out (it had 3 s left).
    expect(talkEnd - at).toBeLessThan(1000);
    expect(chimeStart).toBeGreaterThanOrEqual(talkEnd);
    // The chime is heard in full before the warning.
    expect(position(audio, warnStarted) - chimeStart).toBeGreaterThan(450);
    expect(proofs.map((p) => `${p.itemId}:${p.outcome}`)).toEqual([
      'talk:started',
      'talk:interrupted',
      'warn:started',
      'warn:completed',
    ]);
  }, 60_000);

  test('an item resumed after an emergency continues from where it was cut, straight after the warning', async () => {
    const { audio, path } = wavDriver('resume');
    h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000 });
    await cutByEmergency(h, 'resume', 1200);
    await waitFor(
      async () => (await h!.proofs()).some((p) => p.itemId === 'talk' && p.outcome === 'completed'),
      20_000,
    );
    const proofs = await h.proofs();
    const wav = await finish(path);
    // The 440 Hz item, the 880 Hz warning, the 440 Hz item again: 10 ms windows classed by level and
    // pitch (the item may follow the warning with no silence at all, so runs of sound do not tell them apart).
    const w = rmsWindows(wav, 10);
    const cls = w.map((db, i) => (db < -40 ? '-' : frequencyAt(wav, i * 10, i * 10 + 10) > 600 ? 'H' : 'L'));
    const segs: { c: string; startMs: number; endMs: number }[] = [];
    for (const [i, c] of cls.entries()) {
      const last = segs.at(-1);
      if (last && last.c === c) last.endMs = (i + 1) * 10;
      else segs.push({ c, startMs: i * 10, endMs: (i + 1) * 10 });
    }
    // Runs shorter than 30 ms are the edges of a cut (a partial window): merged into their neighbours.
    const sound = segs.filter((x) => x.c !== '-' && x.endMs - x.startMs >= 30);
    const merged: typeof sound = [];
    for (const x of sound) {
      const last = merged.at(-1);
      if (last && last.c === x.c) last.endMs = x.endMs;
      else merged.push({ ...x });
    }
    expect(merged.map((x) => x.c).join('')).toBe('LHL');
    const [before, during, after] = merged as unknown as [Run, Run, Run];
    const heard = before.endMs - before.startMs + (after.endMs - after.startMs);
    const gap = after.startMs - during.endMs;
    console.info(
      `resume after an emergency: silence between the warning and the item ${Math.round(gap)} ms; ` +
        `the item heard for ${Math.round(heard)} ms of 4000 in all`,
    );
    // Resumed where it was cut: nothing repeated, nothing lost (the cut itself may lose a few ms).
    expect(Math.abs(heard - 4000)).toBeLessThanOrEqual(120);
    // It follows the warning (pre-rolled while the warning plays, not started after it ends:
    // ~40 ms on a loaded machine, 160–230 ms before the pre-roll, logged above). The bound only
    // catches a resume that waits for something (a retry, the next planning round): a starved
    // run (load 30 on 2 cores) took 1.8 s to get the resumed decoder going.
    expect(gap).toBeLessThan(3000);
    // The cut item's end is recorded once its decoder has exited, which on a loaded machine may
    // come after the warning's first sound: those two proofs may come in either order.
    const seq = proofs.map((p) => `${p.itemId}:${p.outcome}`);
    expect(seq[0]).toBe('talk:started');
    expect(seq.slice(1, 3).sort()).toEqual(['talk:interrupted', 'warn:started']);
    expect(seq.slice(3)).toEqual(['warn:completed', 'talk:started', 'talk:completed']);
  }, 60_000);

  test('the gap between repeats is silence in the WAV, for a programme and for an emergency', async () => {
    const { audio, path } = wavDriver('repeat-gap');
    h = await makeHarness({ audio, warmupMs: 300, idleTailMs: 20_000 });
    const beep = await toneItem(h.dir, 'beep', 660, 0.5);
    const warn = { ...(await toneItem(h.dir, 'warn', 990, 0.5)), priority: 'emergency' } as Item;
    const GAP_S = 2;
    const at = Date.now() + 1500;
    h.player.setBundles([
      withDir(
        bundle({
          created: iso(Date.now() - 60_000),
          items: [beep, warn],
          schedule: [
            {
              id: 'programme',
              items: ['beep'],
              rule: { type: 'once', at: iso(at) },
              repeat: { count: 2, gapSeconds: GAP_S },
            },
            {
              id: 'emergency',
              items: ['warn'],
              // Clear of the programme's repeats even when they start seconds late (a starved run).
              rule: { type: 'once', at: iso(at + 10_000) },
              repeat: { count: 3, gapSeconds: GAP_S },
            },
          ],
        }),
        h.dir,
      ),
    ]);
    await waitFor(
      async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 5,
      40_000,
    );
    const proofs = await h.proofs();
    const wav = await finish(path);
    const runs = soundRuns(wav, -40, 10, 60);
    expect(runs).toHaveLength(5);
    const which = runs.map((r) =>
      frequencyAt(wav, r.startMs + 100, r.startMs + 300) > 800 ? 'warn' : 'beep',
    );
    expect(which).toEqual(['beep', 'beep', 'warn', 'warn', 'warn']);
    const silences = [
      runs[1]!.startMs - runs[0]!.endMs,
      runs[3]!.startMs - runs[2]!.endMs,
      runs[4]!.startMs - runs[3]!.endMs,
    ];
    console.info(`silence between repeats (ms, gap ${GAP_S * 1000}): ${silences.map(Math.round).join(', ')}`);
    // The sound detector works on 10 ms windows and a tone fades out below its threshold a little
    // before it ends (1980–2000 ms measured for a 2 s gap); the gap is a lower bound (the player may start
    // a little late under load, never early).
    // At a load of 30 on 2 cores the sink runs up to ~150 ms ahead of its clock when an item ends
    // (ffmpeg catching up after a stall), which shortens the silence seen in the file by as
    // much; a repeat that starts late is bounded as a slot is (tests/helpers/timing.ts).
    for (const s of silences) expect(s).toBeGreaterThanOrEqual(GAP_S * 1000 - 200);
    for (const s of silences) expect(s).toBeLessThanOrEqual(GAP_S * 1000 + LATE_MS);
    expect(proofs.filter((p) => p.outcome === 'completed').map((p) => p.itemId)).toEqual([
      'beep',
      'beep',
      'warn',
      'warn',
      'warn',
    ]);
  }, 60_000);

  test('after a restart the first item starts on time: the output delay learnt before is kept', async () => {
    const KEPT_MS = 400;
    const boot1 = wavDriver('first-boot');
    h = await makeHarness({ audio: boot1.audio, warmupMs: 300, idleTailMs: 20_000 });
    const stateFile = join(h.dir, 'player-state.json');
    const beep = await toneItem(h.dir, 'beep', 660, 0.4);
    const plan = (id: string, slots: number[]) =>
      withDir(
        bundle({
          created: iso(Date.now() - 60_000),
          items: [beep],
          schedule: slots.map((at, i) => ({
            id: `${id}${i}`,
            items: ['beep'],
            rule: { type: 'once', at: iso(at) },
          })),
        }),
        h!.dir,
      );
    // First boot: nothing learnt yet; three items teach the player its output delay, which it saves.
    const first = [0, 1, 2].map((i) => Date.now() + 1500 + i * 1000);
    h.player.setBundles([plan('a', first)]);
    await waitFor(
      async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 3,
      45_000,
    );
    const learnt = await waitFor(async () => {
      const s = JSON.parse(await readFile(stateFile, 'utf8').catch(() => '{}')) as { outputDelayMs?: number };
      return s.outputDelayMs;
    });
    expect(learnt).toBeGreaterThan(0);
    // The next boot, on a board whose output is much slower than this WAV sink: the data directory
    // says 400 ms. The first item after the restart starts that much ahead of its slot (on that
    // board, on time), instead of coming out late by it while the player learns it again.
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, unknown>;
    await writeFile(stateFile, JSON.stringify({ ...state, outputDelayMs: KEPT_MS }));
    const boot2 = wavDriver('after-restart');
    // What the player asks of the driver: when each playback's audio is to come out (wall ms).
    const holds: number[] = [];
    const realPlay = boot2.audio.play.bind(boot2.audio);
    boot2.audio.play = (req) => {
      holds.push(Date.now() + (req.startDelayMs ?? 0));
      return realPlay(req);
    };
    const again = new Player({
      audio: boot2.audio,
      gate: h.amp,
      proofs: h.journal,
      clock: h.clock,
      logger: pino({ level: 'silent' }),
      policy: { warmupMs: 300, volume: 100 },
      stateFile,
    });
    await again.start();
    const second = Date.now() + 1500;
    again.setBundles([plan('b', [second])]);
    await waitFor(
      async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 4,
      45_000,
    );
    await again.stop();
    const runs2 = soundRuns(await readWav(boot2.path), -40, 5, 60);
    const runs1 = soundRuns(await finish(boot1.path), -40, 5, 60);
    expect(runs1).toHaveLength(3);
    expect(runs2).toHaveLength(1);
    const lateFirstBoot = runs1[0]!.startMs - position(boot1.audio, first[0]!);
    const lateAfterRestart = runs2[0]!.startMs - position(boot2.audio, second);
    console.info(
      `output delay learnt ${learnt} ms; first item's sound vs its slot: ${Math.round(lateFirstBoot)} ms on the first boot (nothing learnt), ` +
        `${Math.round(lateAfterRestart)} ms after a restart with ${KEPT_MS} ms kept`,
    );
    // The player asked for the audio the kept delay ahead of the slot (its own decision, exact
    // within a few ms; a player that ignored the kept delay would ask for the slot itself).
    expect(holds).toHaveLength(1);
    expect(second - holds[0]!).toBeGreaterThanOrEqual(KEPT_MS - 50);
    expect(second - holds[0]!).toBeLessThanOrEqual(KEPT_MS + 5);
    // And the sound came out held to that instant: never before it, and not a missed start. How
    // much ahead of the slot it landed depends on this sink's own delay (tens of ms idle; at a
    // load of 30 on 2 cores, more than the 400 ms kept), so it is logged above, not bounded.
    expectStartAtSlot(lateAfterRestart + KEPT_MS, 'first item after the restart, against its hold');
  }, 120_000);
});
