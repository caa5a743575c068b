/**
 * The player on the simulated audio driver, the real amplifier service (simulated GPIO) and the
 * real proof journal.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProofSchema } from '@loa/protocol';
import { afterEach, describe, expect, test } from 'vitest';
import type { PlanBundle } from '../../agent/src/domain/scheduler/types.js';
import { SimAudioDriver } from '../../agent/src/drivers/audio/sim.js';
import { Player } from '../../agent/src/services/playback/player.js';
import { expectStartAtSlot } from '../helpers/timing.js';
import { type Harness, makeHarness, waitFor } from './player-harness.js';
import { audioItem, bundle } from './scheduler/fixtures.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function withBlobs(b: PlanBundle, dir: string): Promise<PlanBundle> {
  const blobDir = join(dir, 'blobs');
  await mkdir(blobDir, { recursive: true });
  for (const it of b.manifest.items) if (it.blob) await writeFile(join(blobDir, it.blob.sha256), 'x');
  return { ...b, blobDir };
}

const iso = (ms: number) => new Date(ms).toISOString();
const created = () => iso(Date.now() - 60_000);

describe('player', () => {
  test('plays a scheduled item on time through the amplifier and records started/completed proofs', async () => {
    const audio = new SimAudioDriver({ loudnessLufs: -16, peakDbfs: -2 });
    h = await makeHarness({ audio });
    const at = Date.now() + 1000;
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('news', 800)],
        schedule: [{ id: 'e', items: ['news'], rule: { type: 'once', at: iso(at) }, zones: ['cho'] }],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    expect(h.player.status().nextSlot?.itemId).toBe('news');
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'));
    const proofs = await h.proofs();
    expect(proofs.map((p) => p.outcome)).toEqual(['started', 'completed']);
    for (const p of proofs) expect(ProofSchema.safeParse(p).success).toBe(true);
    const done = proofs[1]!;
    expect(done).toMatchObject({
      itemId: 'news',
      bundleId: 'b1',
      entryId: 'e',
      priority: 'normal',
      loudnessLufs: -16,
      peakDbfs: -2,
      clockTrusted: true,
      contentSha256: b.manifest.items[0]!.blob!.sha256,
      scheduledAt: iso(at),
    });
    expect(done.relays.amplifier).toBe(true);
    expect(done.relays.zones).toEqual({ cho: true, truong: false });
    // Audio held to its slot (never early, no slot missed: tests/helpers/timing.ts), and the
    // amplifier was switched on before it: the player wakes a second ahead (its prefetch lead,
    // longer than the 300 ms warm-up), so even a starved run switches it on before the slot. That
    // the audio stays muted until the warm-up ends is property-tested in amplifier-domain.test.ts.
    expect(audio.history).toHaveLength(1);
    const startedAt = Date.parse(proofs[0]!.startedAt!);
    expectStartAtSlot(startedAt - at, 'news');
    const ampOn = h.gpio.writesOf('amplifier').find((w) => w.active)!;
    expect(ampOn.at).toBeLessThan(at);
    expect(ampOn.at).toBeLessThan(startedAt);
    // Idle tail then off.
    await waitFor(() => h!.gpio.writesOf('amplifier').some((w) => !w.active && w.at > at));
    expect(h.amp.relays().amplifier).toBe(false);
  });

  test('an emergency cuts in at once, plays its repeats, and the interrupted item resumes', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const at = Date.now() + 500;
    const normal = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('talk', 3000, { onInterrupt: 'resume' })],
        schedule: [{ id: 'n', items: ['talk'], rule: { type: 'once', at: iso(at) } }],
      }),
      h.dir,
    );
    h.player.setBundles([normal]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'talk');
    await new Promise((r) => setTimeout(r, 700));
    const em = await withBlobs(
      bundle(
        {
          id: 'flood',
          channel: 'emergency',
          created: created(),
          items: [audioItem('warn', 500, { priority: 'emergency' })],
          schedule: [
            { id: 'now', items: ['warn'], rule: { type: 'immediate' }, repeat: { count: 2, gapSeconds: 0 } },
          ],
        },
        Date.now(),
      ),
      h.dir,
    );
    const cutAt = Date.now();
    h.player.setBundles([normal, em]);
    await waitFor(async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 3);
    const proofs = await h.proofs();
    expect(proofs.map((p) => `${p.itemId}:${p.outcome}`)).toEqual([
      'talk:started',
      'talk:interrupted',
      'warn:started',
      'warn:completed',
      'warn:started',
      'warn:completed',
      'talk:started',
      'talk:completed',
    ]);
    const interrupted = proofs[1]!;
    // Cut by the emergency (the item had more than 2 s left), not left to run out.
    expect(Date.parse(interrupted.endedAt!) - cutAt).toBeLessThan(1000);
    expect(proofs[2]!.priority).toBe('emergency');
    // The resumed part starts where the first part stopped.
    const files = audio.history.filter((s) => s.input.kind === 'file');
    const talkParts = files.filter(
      (s) => s.input.kind === 'file' && s.input.path.endsWith(normal.manifest.items[0]!.blob!.sha256),
    );
    expect(talkParts).toHaveLength(2);
    const resumeOffset = talkParts[1]!.input.kind === 'file' ? talkParts[1]!.input.offsetMs : -1;
    // It played at least the 700 ms before the cut; it resumes there, not from the start and not
    // past where its proof says it stopped.
    const playedBeforeCut = Date.parse(interrupted.endedAt!) - Date.parse(proofs[0]!.startedAt!);
    expect(resumeOffset).toBeGreaterThan(500);
    expect(resumeOffset).toBeLessThanOrEqual(playedBeforeCut + 100);
  });

  test('a dying player process gives a failed proof and the next item plays', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const at = Date.now() + 400;
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('a', 600), audioItem('bb', 400)],
        schedule: [{ id: 'e', items: ['a', 'bb'], rule: { type: 'once', at: iso(at) } }],
      }),
      h.dir,
    );
    audio.failNext('AUDIO_PROCESS_DIED', 200);
    h.player.setBundles([b]);
    await waitFor(async () =>
      (await h!.proofs()).some((p) => p.itemId === 'bb' && p.outcome === 'completed'),
    );
    const proofs = await h.proofs();
    const failed = proofs.find((p) => p.outcome === 'failed')!;
    expect(failed.itemId).toBe('a');
    expect(failed.reason).toMatch(/^AUDIO_PROCESS_DIED/);
    expect(h.player.timeline().slots.some((s) => s.item.id === 'a')).toBe(false);
  });

  test('until the clock is trusted only emergencies play; scheduled items are held and say so', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio, trusted: false });
    const b = await withBlobs(
      bundle(
        {
          created: created(),
          items: [audioItem('n', 400), audioItem('em', 400, { priority: 'emergency' })],
          schedule: [
            { id: 'a', items: ['n'], rule: { type: 'once', at: iso(Date.now() + 200) } },
            { id: 'x', items: ['em'], rule: { type: 'immediate' } },
          ],
        },
        Date.now(),
      ),
      h.dir,
    );
    h.player.setBundles([b]);
    await waitFor(async () =>
      (await h!.proofs()).some((p) => p.itemId === 'em' && p.outcome === 'completed'),
    );
    expect(h.player.status().held.map((x) => [x.itemId, x.reason])).toEqual([['n', 'clock-untrusted']]);
    expect((await h.proofs()).every((p) => p.clockTrusted === false && p.itemId === 'em')).toBe(true);
    h.clock.setTrusted(true);
    await waitFor(async () => (await h!.proofs()).some((p) => p.itemId === 'n' && p.outcome === 'completed'));
    expect(h.player.status().held).toEqual([]);
  });

  test('stop command interrupts without replay; test tone and play-now run; bad requests get codes', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('long', 5000), audioItem('jingle', 300)],
        schedule: [{ id: 'e', items: ['long'], rule: { type: 'once', at: iso(Date.now() + 300) } }],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'long');
    h.player.stopCurrent();
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'interrupted'));
    await h.player.testTone(1, 1000, { commandId: '7f1c1a52-6c1e-4a53-9f54-0c9a4b3c7d10' });
    await h.player.playNow('main', 'jingle');
    await waitFor(async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 2);
    const proofs = await h.proofs();
    expect(proofs.find((p) => p.outcome === 'interrupted')!.reason).toBe('stopped by command');
    expect(proofs.filter((p) => p.outcome === 'completed').map((p) => p.itemId)).toEqual([
      'test-tone',
      'jingle',
    ]);
    expect(proofs.find((p) => p.itemId === 'test-tone')!.entryId).toBe(
      '7f1c1a52-6c1e-4a53-9f54-0c9a4b3c7d10',
    );
    expect(audio.history.some((s) => s.input.kind === 'tone' && s.input.frequencyHz === 1000)).toBe(true);
    expect(h.player.timeline().slots.some((s) => s.item.id === 'long')).toBe(false);
    await expect(h.player.playNow('main', 'nope')).rejects.toMatchObject({ code: 'PLAYER_ITEM_UNKNOWN' });
    expect(() => h!.player.setVolume(101)).toThrow(expect.objectContaining({ code: 'PLAYER_BAD_VOLUME' }));
    await expect(h.player.testTone(0)).rejects.toMatchObject({ code: 'PLAYER_BAD_REQUEST' });
  });

  test('commands given within one millisecond play in the order they came, whatever their ids', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('long', 5000), audioItem('jingle', 300)],
        schedule: [],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    await h.player.playNow('main', 'long');
    await waitFor(() => h!.player.status().onAir?.itemId === 'long');
    // Both commands wait behind the item on air. The planner breaks a tie of due times by key, and
    // these ids sort the other way round from the order the commands came in.
    void h.player.testTone(1, 1000, { commandId: 'ffffffff-0000-4000-8000-000000000001' });
    void h.player.playNow('main', 'jingle', { commandId: '00000000-0000-4000-8000-000000000002' });
    h.player.stopCurrent();
    await waitFor(async () => (await h!.proofs()).filter((p) => p.outcome === 'completed').length === 2);
    const done = (await h.proofs()).filter((p) => p.outcome === 'completed').map((p) => p.itemId);
    expect(done).toEqual(['test-tone', 'jingle']);
  });

  test('an item held past maxLateMs is recorded as skipped; a restart does not replay what was done', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio, policy: { warmupMs: 300, maxLateMs: 1000 } });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('old', 400), audioItem('ok', 300)],
        schedule: [
          { id: 'late', items: ['old'], rule: { type: 'once', at: iso(Date.now() - 1500) } },
          { id: 'now', items: ['ok'], rule: { type: 'once', at: iso(Date.now() + 400) } },
        ],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    await waitFor(async () =>
      (await h!.proofs()).some((p) => p.itemId === 'ok' && p.outcome === 'completed'),
    );
    const proofs = await h.proofs();
    expect(proofs.find((p) => p.itemId === 'old')).toMatchObject({ outcome: 'skipped', entryId: 'late' });
    // A second player on the same state file (a restart) plans nothing more for these entries.
    await h.player.stop();
    const again = new Player({
      audio: new SimAudioDriver(),
      gate: h.amp,
      proofs: h.journal,
      clock: h.clock,
      logger: (await import('pino')).default({ level: 'silent' }),
      policy: { warmupMs: 300, maxLateMs: 60_000 },
      stateFile: join(h.dir, 'player-state.json'),
    });
    await again.start();
    again.setBundles([b]);
    expect(again.timeline().slots).toEqual([]);
    await again.stop();
    await h.player.start();
  });
});

describe('player: back-to-back items', () => {
  test('the next item is queued behind the one on air and follows without a gap', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('a', 1500), audioItem('bb', 500)],
        schedule: [{ id: 'e', items: ['a', 'bb'], rule: { type: 'once', at: iso(Date.now() + 400) } }],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    await waitFor(async () =>
      (await h!.proofs()).some((p) => p.itemId === 'bb' && p.outcome === 'completed'),
    );
    const [first, second] = audio.history as [(typeof audio.history)[0], (typeof audio.history)[0]];
    expect(audio.history).toHaveLength(2);
    // Back to back: no amplifier cycle (300 ms warm-up) and no player tick between them. The gap
    // itself is a few ms; a starved run can delay the simulated driver's timers by tens of ms.
    expect(second.startedAt - first.endedAt!).toBeLessThan(250);
    const proofs = await h.proofs();
    expect(proofs.map((p) => `${p.itemId}:${p.outcome}`)).toEqual([
      'a:started',
      'a:completed',
      'bb:started',
      'bb:completed',
    ]);
    // The amplifier stayed on between them.
    expect(h.gpio.writesOf('amplifier').filter((w) => w.active)).toHaveLength(1);
  });
});

describe('player robustness', () => {
  test('a policy the scheduler cannot use is logged, not thrown; the player keeps running', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({
      audio,
      policy: { utcOffset: 'bogus', quietHours: [{ start: '22:00', end: '05:00' }] },
    });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('a', 300)],
        schedule: [{ id: 'e', items: ['a'], rule: { type: 'once', at: iso(Date.now() + 200) } }],
      }),
      h.dir,
    );
    expect(() => h!.player.setBundles([b])).not.toThrow();
    expect(h.player.timeline().slots).toEqual([]);
    expect(h.player.status().onAir).toBeNull();
  });
});

describe('player: gain on air', () => {
  test('a volume command and a zone switch reach the item on air (volume, then mute and unmute)', async () => {
    const audio = new SimAudioDriver();
    h = await makeHarness({ audio, policy: { warmupMs: 300, volume: 80 } });
    const b = await withBlobs(
      bundle({
        created: created(),
        items: [audioItem('talk', 2500)],
        schedule: [
          { id: 'e', items: ['talk'], rule: { type: 'once', at: iso(Date.now() + 500) }, zones: ['cho'] },
        ],
      }),
      h.dir,
    );
    h.player.setBundles([b]);
    await waitFor(() => h!.player.status().onAir?.itemId === 'talk');
    const rec = audio.history[0]!;
    expect(rec.volume).toBe(80);
    h.player.setVolume(30);
    await waitFor(() => rec.volume === 30);
    // Another zone while it plays: muted around the relay switch, then back at 30.
    await h.amp.ready(['truong']);
    expect(rec.levelChanges?.map((c) => c.volume)).toEqual([30, 0, 30]);
    const muteAt = rec.levelChanges![1]!.at;
    const unmuteAt = rec.levelChanges![2]!.at;
    const zoneWrites = h.gpio.timeline.filter((w) => w.name.startsWith('zone:') && w.at >= Date.now() - 5000);
    const switched = zoneWrites.filter((w) => w.name === 'zone:truong' && w.active);
    expect(switched).toHaveLength(1);
    // Relay writes are on the wall clock, the driver's on its monotonic one: compare the order.
    expect(unmuteAt).toBeGreaterThan(muteAt);
    expect(h.amp.snapshot().muted).toBe(false);
    await waitFor(async () => (await h!.proofs()).some((p) => p.outcome === 'completed'));
    // A later playback starts at the new volume, unmuted.
    expect(h.player.status().volume).toBe(30);
  });
});
