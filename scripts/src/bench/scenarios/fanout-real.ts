import type { BenchContext } from '../harness.js';
import { Unavailable } from '../harness.js';

export interface RealFanout {
  latenciesMs: number[];
  notes: string[];
  profile?: Record<string, unknown>;
}

export async function realEmergencyFanout(
  _ctx: BenchContext,
  _opts: { devices: number; messages: number },
): Promise<RealFanout> {
  throw new Unavailable('the fleet server emergency path and the agent are not in the tree yet');
}
