/**
 * The simulated driver on a virtual clock: long programmes and the stream relay's timing rules
 * (reconnect, failover after N seconds of failure or silence, retry) run in test time.
 */
import { describe, expect, test } from 'vitest';
import { SimAudioDriver } from '../../../agent/src/drivers/audio/sim.js';
import type { Playback, PlayResult } from '../../../agent/src/drivers/audio/types.js';

/** A deterministic virtual clock with timers. */
class VirtualTime {
  now = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  readonly timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const t = { at: this.now + Math.max(0, ms), seq: this.seq++, fn };
      this.queue.push(t);
      return t;
    },
    clearTimeout: (h: unknown) => {
      this.queue = this.queue.filter((t) => t !== h);
    },
  };
  /** Runs timers (and the promise jobs they trigger) until `p` settles. */
  async run<T>(p: Promise<T>, limitMs = 24 * 3600_000): Promise<T> {
    let done = false;
    let value!: T;
    void p.then((v) => {
      done = true;
      value = v;
    });
    for (let i = 0; i < 100_000; i++) {
      for (let k = 0; k < 20; k++) await Promise.resolve();
      if (done) return value;
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue.shift();
      if (!next) await new Promise((r) => setImmediate(r));
      else {
        if (next.at > limitMs) throw new Error('virtual time limit');
        this.now = next.at;
        next.fn();
      }
    }
    throw new Error('did not settle');
  }
}

function sim(vt: VirtualTime) {
  return new SimAudioDriver({ timers: vt.timers, now: () => vt.now, checkFiles: false, deadAirMs: 5000 });
}

describe('simulated audio driver on virtual time', () => {
  test('a 40-minute item plays for 40 minutes of virtual time with levels', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    const p = d.play({ source: { kind: 'file', path: '/b/x.opus', durationMs: 40 * 60_000 } });
    const r = await vt.run(p.result);
    expect(r).toMatchObject({
      outcome: 'completed',
      positionMs: 40 * 60_000,
      loudnessLufs: -18,
      peakDbfs: -3,
      deadAir: false,
    });
    expect(vt.now).toBe(40 * 60_000);
  });

  test('going silent mid-item is reported as dead air', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    const p = d.play({ source: { kind: 'file', path: '/b/x.opus', durationMs: 60_000 } });
    vt.timers.setTimeout(() => d.setSilent(true), 20_000);
    const r = await vt.run(p.result);
    expect(r.deadAir).toBe(true);
  });

  test('stream relay: reconnects, fails over after failoverMs, retries the stream after retryAfterMs', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    const url = 'http://studio.example/live';
    const p: Playback = d.play({
      source: {
        kind: 'stream',
        url,
        durationMs: 120_000,
        relay: {
          failoverMs: 10_000,
          reconnectDelayMs: 2000,
          retryAfterMs: 30_000,
          fallback: { kind: 'input', input: 'fm' },
        },
      },
    });
    // The stream drops at 20 s and comes back at 45 s.
    vt.timers.setTimeout(() => d.setStreamDown(url, true), 20_000);
    vt.timers.setTimeout(() => d.setStreamDown(url, false), 45_000);
    const r: PlayResult = await vt.run(p.result);
    expect(r.outcome).toBe('completed');
    expect(vt.now).toBe(120_000);
    const kinds = d.history.map((s) => `${s.input.kind}@${s.startedAt / 1000}`);
    // Stream 0–20 s; reconnects every 2 s fail; after 10 s of failure the FM input plays for
    // 30 s (30–60 s); then the stream again until the end.
    expect(kinds[0]).toBe('url@0');
    expect(kinds).toContain('input@30');
    expect(kinds.at(-1)).toBe('url@60');
    expect(r.relay).toMatchObject({ fallbackUsed: true, fallbackMs: 30_000 });
    expect(r.relay!.streamMs).toBe(20_000 + 60_000);
    // Reconnects at 22, 24, 26 and 28 s; at 30 s it has failed for 10 s.
    expect(r.relay!.connects).toBe(1 + 4 + 1);
  });

  test('a silent stream counts as failed after silenceMs', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    d.setSilent(true);
    const r = await vt.run(
      d.play({
        source: {
          kind: 'stream',
          url: 'http://x.example/s',
          durationMs: 60_000,
          relay: { silenceMs: 8000, failoverMs: 8000, reconnectDelayMs: 1000 },
        },
      }).result,
    );
    expect(r.outcome).toBe('failed');
    expect(r.error?.code).toBe('AUDIO_STREAM_FAILED');
    expect(r.deadAir).toBe(true);
    expect(vt.now).toBeLessThan(20_000);
  });
});

describe('live relay fallback chain (virtual time)', () => {
  test('stream down → FM without signal → cached recording → silence with an alert; switches timed and explained', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    const url = 'http://vov.example/vov1';
    d.setStreamDown(url, true);
    const silences: string[] = [];
    let released = 0;
    const r = await vt.run(
      d.play({
        source: {
          kind: 'live',
          primary: { kind: 'stream', url },
          durationMs: 60_000,
          relay: {
            failoverMs: 2000,
            reconnectDelayMs: 1000,
            retryAfterMs: 20_000,
            chain: [
              {
                kind: 'input',
                input: 'fm',
                prepare: () => Promise.reject(new Error('FM 96.5 MHz: no signal (RSSI 9 < 20)')),
              },
              // The sim "file" lasts its segment's cap: the recording plays its 20 s turn.
              { kind: 'file', path: '/cache/du-phong.opus' },
            ],
            onSilence: (reason) => silences.push(reason),
            release: async () => {
              released++;
            },
          },
        },
      }).result,
    );
    expect(r.outcome).toBe('completed');
    expect(vt.now).toBe(60_000);
    const sw = r.relay!.switches.map((s) => `${s.to}@${s.atMs / 1000}`);
    // Stream fails at once and at 1 s; at 2 s the FM step fails its signal check and the
    // recording plays 2–22 s; the stream is tried again and fails; the recording again 24–44 s…
    expect(sw[0]).toBe('recording@2');
    expect(r.relay!.switches[0]!.reason).toContain('no signal');
    expect(r.relay!.fallbackMs).toBeGreaterThanOrEqual(40_000);
    expect(silences).toEqual([]);
    expect(released).toBe(1);
  });

  test('every source failing ends in silence with an alert (the relay keeps its slot and tries again)', async () => {
    const vt = new VirtualTime();
    const d = sim(vt);
    await d.open();
    const url = 'http://vov.example/down';
    d.setStreamDown(url, true);
    const silences: string[] = [];
    const r = await vt.run(
      d.play({
        source: {
          kind: 'live',
          primary: { kind: 'stream', url },
          durationMs: 30_000,
          relay: {
            failoverMs: 1000,
            reconnectDelayMs: 500,
            retryAfterMs: 10_000,
            chain: [{ kind: 'input', input: 'fm', prepare: () => Promise.reject(new Error('no FM module')) }],
            onSilence: (reason) => silences.push(reason),
          },
        },
      }).result,
    );
    expect(vt.now).toBe(30_000);
    expect(r.outcome).toBe('failed');
    expect(r.relay!.switches[0]).toMatchObject({ to: 'silence' });
    expect(silences.length).toBeGreaterThanOrEqual(2);
    expect(silences[0]).toContain('no FM module');
  });
});
