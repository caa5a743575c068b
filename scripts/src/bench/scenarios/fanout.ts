/**
 * Scenario 1: emergency fan-out. The operator's request through the real fleet server to light
 * stations (enrolled devices in worker threads that verify the signed message and its audio)
 * beside raw aedes fan-out of a message of the same size to the same workers in the same run;
 * and the real agent, pinned to one core, from the request to playing. See fanout-real.ts.
 */
import { availableParallelism } from 'node:os';
import { figure, type Scenario } from '../harness.js';
import { summarize } from '../stats.js';
import { emergencyFanout } from './fanout-real.js';

/** The agent's goal from the request to its first sound (issue 19), without amplifier warm-up. */
const AGENT_PLAYING_GOAL_MS = 100;

export const fanout: Scenario = {
  name: 'fanout',
  title:
    'Emergency fan-out to 1,000 stations (100 in quick): request → audio ready; one pinned agent → playing',
  budgetMs: { quick: 150_000, full: 480_000 },
  async run(ctx) {
    const devices = ctx.quick ? 100 : 1000;
    const rounds = ctx.quick ? 3 : 20;
    const workers = Number(process.env.LOA_BENCH_FANOUT_WORKERS) || Math.max(4, availableParallelism());
    const run = await emergencyFanout(ctx, { devices, rounds, workers });
    const s = summarize(run.stationMs);
    const shared = summarize(run.sharedMs);
    const raw = summarize(run.rawMs);
    const agent = summarize(run.agentMs);
    const agentRaw = summarize(run.agentRawMs);
    const notes = [
      `${devices} light stations, ${rounds} emergencies; raw aedes: ${run.rawMs.length}/${rounds * devices} deliveries, ` +
        `real path: ${run.stationMs.length}/${rounds * devices} stations audio ready.`,
      ...run.notes,
    ];
    return {
      notes,
      figures: [
        figure('fanout.p50', 'request → audio ready (light stations, each on its own CPU) p50', s.p50, 'ms', {
          baseline: { label: 'raw aedes p50', value: raw.p50, unit: 'ms' },
        }),
        figure('fanout.p99', 'request → audio ready (light stations, each on its own CPU) p99', s.p99, 'ms', {
          baseline: { label: 'raw aedes p99', value: raw.p99, unit: 'ms' },
          goal: { better: 'lower', ratio: 1.5, text: '≤ 1.5× raw aedes' },
          note: 'arrival + the station’s own checks; the checks of the other stations in its thread are not counted',
        }),
        figure(
          'fanout.shared.p99',
          `request → audio ready as seen in the shared worker threads (${Math.ceil(devices / workers)} stations a thread, checks one after another) p99`,
          shared.p99,
          'ms',
          { baseline: { label: 'raw aedes p99', value: raw.p99, unit: 'ms' } },
        ),
        figure('fanout.raw.p50', 'raw aedes fan-out, same size, same workers p50', raw.p50, 'ms'),
        figure('fanout.raw.p90', 'raw aedes fan-out p90', raw.p90, 'ms'),
        figure('fanout.raw.p99', 'raw aedes fan-out p99', raw.p99, 'ms'),
        figure(
          'fanout.agent',
          `request → playing, real agent pinned to one core (median of ${run.agentMs.length})`,
          agent.p50,
          'ms',
          {
            baseline: { label: 'raw receive, pinned subscriber, median', value: agentRaw.p50, unit: 'ms' },
            goal: { better: 'lower', limit: AGENT_PLAYING_GOAL_MS, text: `≤ ${AGENT_PLAYING_GOAL_MS} ms` },
            note: 'amplifier warm-up not included (hardware)',
          },
        ),
      ],
      details: {
        stations: s,
        shared,
        raw,
        agent,
        agentRaw,
        agentMs: run.agentMs,
        agentVerifiedMs: run.agentVerifiedMs,
        messageBytes: run.messageBytes,
        profile: run.profile,
      },
    };
  },
};
