/**
 * The relay test (command relay-test, technician page): amplifier (and a zone) on, resolved once
 * on; back to idle after `seconds`. Refused while a programme is on air: the amplifier gate is
 * not shared-counted, and a test must never switch relays under a broadcast.
 */
import { globalTimers, LoaError, type Timers } from '@loa/protocol';
import type { OutputGate } from '../playback/ports.js';

export interface RelayTestParts {
  gate: Pick<OutputGate, 'ready' | 'idle'>;
  /** Whether something is on air now. */
  onAir: () => boolean;
  timers?: Timers;
}

export type RelayTest = (seconds: number, zone?: string) => Promise<void>;

export function relayTester({ gate, onAir, timers = globalTimers }: RelayTestParts): RelayTest {
  return async (seconds, zone) => {
    if (onAir()) throw new LoaError('ON_AIR', 'Đang phát thanh: không thử rơ-le lúc này');
    await gate.ready(zone ? [zone] : undefined);
    const t = timers.setTimeout(() => {
      if (!onAir()) gate.idle();
    }, seconds * 1000);
    (t as { unref?: () => void } | undefined)?.unref?.(); // a pending test does not hold a stop
  };
}
