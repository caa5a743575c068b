/** A small seeded PRNG (mulberry32) so simulated fleets are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exponential waiting time (ms) for events at `perHour` per hour; Infinity when the rate is 0. */
export function nextEventMs(perHour: number, random: () => number): number {
  if (perHour <= 0) return Number.POSITIVE_INFINITY;
  return (-Math.log(1 - random()) / perHour) * 3_600_000;
}
