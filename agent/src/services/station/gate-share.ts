/**
 * One amplifier, two users: the player (audio items) and a noticeboard's video with sound. Each
 * holds the amplifier through a lease; the amplifier goes into its idle tail (then off) only when
 * the last holder lets go, so a bulletin ending never silences a video still playing, and the
 * other way round. Sequencing (warm-up before sound, zones, off after the tail) stays the
 * amplifier's (amplifier.ts).
 */
import type { RelayState } from '@loa/protocol';
import type { OutputGate } from '../playback/ports.js';

export class GateShare {
  private readonly holders = new Set<string>();

  constructor(private readonly gate: OutputGate) {}

  /** Who holds the amplifier now. */
  held(): string[] {
    return [...this.holders];
  }

  lease(name: string): OutputGate {
    const gate = this.gate;
    const holders = this.holders;
    return {
      ready: (zones?: readonly string[]) => {
        holders.add(name);
        return gate.ready(zones);
      },
      idle: () => {
        if (!holders.delete(name)) return;
        if (holders.size === 0) gate.idle();
      },
      relays: (): RelayState => gate.relays(),
      get warmupMs() {
        return gate.warmupMs;
      },
      ...(gate.setMuteHandler
        ? {
            setMuteHandler: (h: Parameters<NonNullable<OutputGate['setMuteHandler']>>[0]) =>
              gate.setMuteHandler?.(h),
          }
        : {}),
    };
  }
}
