import type { BenchContext } from '../harness.js';
import { Unavailable } from '../harness.js';

export async function realProofIngest(
  _ctx: BenchContext,
  _opts: { devices: number; perDevice: number },
): Promise<{ perSecond: number; notes: string[]; details: Record<string, unknown> }> {
  throw new Unavailable('the fleet server proof ingest is not in the tree yet');
}
