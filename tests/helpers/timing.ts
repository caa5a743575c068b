/**
 * Bounds for when a sound starts, shared by the tests that place audio in time.
 *
 * The tests share two cores with every other test file (and, on CI, with other jobs). On such a
 * run a decoder that is spawned a second ahead of its slot can still come out a few hundred
 * milliseconds late (seen: 298 ms under `stress-ng --cpu 2`; up to 1.5 s at a load average of 22
 * on 2 cores), while the proof keeps telling the
 * truth about when the sound began. So the tests bound behaviour, and the accuracy itself is a
 * benchmark figure (`npm run bench`, scenario `agent`: median and worst |started − scheduled|):
 *  - never early: a start that ignored its hold would come out when the decoder started, a second
 *    (the player's prefetch lead) before the slot;
 *  - not a missed slot: later than two seconds means the start waited for something else (a
 *    player tick, another slot, a retry), not for a slow decoder;
 *  - where the proof says: the WAV onset and the proof's startedAt agree (measured within a few ms
 *    even on a starved run), so an operator's proof is the truth.
 */
import { expect } from 'vitest';

/** How early a start may look: the wall-clock to WAV-position mapping drifts by tens of ms on a starved run. */
export const EARLY_MS = 200;
/** How late a start may be before it counts as a missed slot rather than a slow machine. */
export const LATE_MS = 2000;

/** `offsetMs` = when the sound started − when it should have; `slackMs` = uncertainty of the origin. */
export function expectStartAtSlot(offsetMs: number, what: string, slackMs = 0): void {
  expect(offsetMs, `${what}: started ${Math.round(offsetMs)} ms from its slot`).toBeGreaterThanOrEqual(
    -EARLY_MS - slackMs,
  );
  expect(offsetMs, `${what}: started ${Math.round(offsetMs)} ms from its slot`).toBeLessThanOrEqual(
    LATE_MS + slackMs,
  );
}
