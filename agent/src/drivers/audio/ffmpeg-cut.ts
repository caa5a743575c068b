/**
 * The hard cut of one ffmpeg process's output, for a mute ffmpeg did not confirm in time: a
 * decoder starved of CPU (or stalled) may still write audio at full gain once it runs again, so
 * zone relays must not switch on the strength of a command it has not applied. The process is
 * paused (SIGSTOP) and whatever it had written and we have not passed on is dropped; it
 * continues (SIGCONT) on the unmute. Works for every output: the WAV sink is fed through our
 * pipe, an ALSA device is written by ffmpeg itself and plays out what it holds, then runs dry.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AudioOutput } from './types.js';
import type { WavSink } from './wav-sink.js';

/** Silence kept before a mute counts as done (the relays switch after it). */
const OUTPUT_GUARD_MS = 20;
/** At most this much audio waits in an ALSA device's buffer (ffmpeg's lead over the DAC). */
const ALSA_LEAD_MAX_MS = 2000;

export class OutputCut {
  private active = false;
  /** The first PCM after a cut lands at the sink's clock (a sound card that ran dry). */
  private pad = false;

  constructor(
    private readonly output: AudioOutput['type'],
    private readonly sink: WavSink | undefined,
    private readonly proc: () => ChildProcess | undefined,
  ) {}

  /** A cut is on: the process is paused and its output dropped. */
  get cutting(): boolean {
    return this.active;
  }

  /** Pauses the process and drops its output; resolves once what the output holds has played. */
  async cut(alsaLeadMs: number): Promise<void> {
    this.active = true;
    this.pad = true;
    this.signal('SIGSTOP');
    await this.drained(alsaLeadMs);
  }

  /** Ends a cut: the process runs again (its audio comes out once unmuted). */
  resume(): void {
    if (!this.active) return;
    this.active = false;
    this.signal('SIGCONT');
  }

  /** The process started during a cut: it waits paused like the rest. */
  spawned(): void {
    if (this.active) this.signal('SIGSTOP');
  }

  /** What becomes of a PCM chunk read now: dropped during a cut, placed at the clock after one. */
  chunk(): 'drop' | 'pad' | 'write' {
    if (this.active) return 'drop';
    if (!this.pad) return 'write';
    this.pad = false;
    return 'pad';
  }

  /**
   * Resolves once the audio already handed to the output has played: the WAV sink knows how far
   * its file runs ahead of its clock; for an ALSA device `alsaLeadMs` is ffmpeg's estimate.
   */
  async drained(alsaLeadMs: number): Promise<void> {
    let ms = 0;
    if (this.output === 'wav' && this.sink) ms = await this.sink.aheadMs().catch(() => 0);
    else if (this.output === 'alsa') ms = Math.min(ALSA_LEAD_MAX_MS, Math.max(0, alsaLeadMs));
    // And a margin: a relay switched right on the last sample is switched under it.
    await sleep(ms + OUTPUT_GUARD_MS);
  }

  private signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    const p = this.proc();
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    try {
      p.kill(sig);
    } catch {
      // Exited meanwhile.
    }
  }
}
