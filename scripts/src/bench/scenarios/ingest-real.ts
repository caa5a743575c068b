import type { BenchContext, Figure } from '../harness.js';
import { Unavailable } from '../harness.js';

export async function realHealthIngest(
  _ctx: BenchContext,
  _opts: { publishers: number; total: number; payloadBytes: number },
): Promise<{ perSecond: number; figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  throw new Unavailable('the fleet server ingest path is not in the tree yet');
}
