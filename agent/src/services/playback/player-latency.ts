/**
 * How far ahead of its slot the player starts an item's audio, to absorb the output's start-up
 * delay: fixed (PlayerOptions.startLatencyMs as a number) or learnt from the starts it holds
 * (a moving average of how late they came out), one figure for pre-rolled outputs (files,
 * tones; kept in the state file) and one for live sources (streams, FM capture), which have
 * nothing to pre-roll and start their process that much before the slot.
 */
export class StartLatency {
  /** Learned start-up delay of the output, ms. */
  private outputMs: number;
  /** Live sources: connect, probe, first audio; learnt like the output delay. */
  private liveMs = 1000;

  constructor(
    private readonly fixed: number | 'auto' | undefined,
    initialOutputMs: number,
  ) {
    this.outputMs = initialOutputMs;
  }

  /** How long before the slot the audio is asked to start. */
  lead(live: boolean): number {
    if (typeof this.fixed === 'number') return this.fixed;
    return live ? this.liveMs : this.outputMs;
  }

  /**
   * A held start came out `lateMs` after its slot, started `leadMs` ahead: learns from it.
   * Returns the new output delay when it changed (to keep in the state file).
   */
  learn(live: boolean, leadMs: number, lateMs: number): number | undefined {
    const latency = lateMs + leadMs;
    if (live) {
      if (latency >= 0 && latency < 5000) this.liveMs = Math.round(0.7 * this.liveMs + 0.3 * latency);
      return undefined;
    }
    if (latency < 0 || latency >= 2000) return undefined;
    this.outputMs = Math.round(0.7 * this.outputMs + 0.3 * latency);
    return this.outputMs;
  }
}
