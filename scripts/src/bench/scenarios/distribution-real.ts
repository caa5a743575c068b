import type { BenchContext, Figure } from '../harness.js';
import { Unavailable } from '../harness.js';

export async function realDistribution(
  _ctx: BenchContext,
  _opts: { devices: number },
): Promise<{ mbPerSecond: number; figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  throw new Unavailable('the fleet server bundle publishing and blob serving are not in the tree yet');
}
