/**
 * Scenario 1: emergency fan-out. Raw aedes fan-out of a payload the size of a real emergency
 * message (baseline) beside the real path: operator request → server signs/publishes →
 * agents verify the manifest and start playing.
 */
import { EmergencySchema, type ManifestBody } from '@loa/protocol';
import { createPki, signManifest } from '../../sim/pki.js';
import { rawAedesFanout } from '../baselines/fanout.js';
import { startChild } from '../child.js';
import { deadline, figure, type Scenario, type ScenarioResult, Unavailable } from '../harness.js';
import { summarize } from '../stats.js';
import { realEmergencyFanout } from './fanout-real.js';

/** A real emergency message (signed manifest inline), to size the baseline's payload. */
export function sampleEmergency(now: Date): string {
  const pki = createPki({ province: '08', now });
  const body: ManifestBody = {
    type: 'loa-bundle',
    format: 1,
    id: 'em-bench-1',
    channel: 'emergency',
    version: 1,
    created: now.toISOString(),
    expires: new Date(now.getTime() + 3600_000).toISOString(),
    targets: [{ unit: '08' }],
    items: [
      {
        id: 'lu-quet',
        title: 'Cảnh báo lũ quét trên sông Phó Đáy',
        kind: 'audio',
        priority: 'emergency',
        lang: 'vi',
        blob: { sha256: 'a'.repeat(64), size: 412_345, mediaType: 'audio/ogg' },
        durationMs: 45_000,
      },
    ],
    schedule: [{ id: 'now', items: ['lu-quet'], rule: { type: 'immediate' } }],
  };
  const msg = {
    manifest: signManifest(body, [pki.keys.emergency]),
    blobBase: 'http://127.0.0.1:8080/api/v1/blobs',
    serverTime: now.toISOString(),
  };
  return JSON.stringify(EmergencySchema.parse(msg));
}

export const fanout: Scenario = {
  name: 'fanout',
  title: 'Emergency fan-out to 1,000 devices (50 in quick): request → verified and playing',
  budgetMs: { quick: 60_000, full: 240_000 },
  async run(ctx) {
    const devices = ctx.quick ? 50 : 1000;
    const messages = ctx.quick ? 5 : 40;
    const payloadBytes = Buffer.byteLength(sampleEmergency(new Date()));
    const notes = [
      `${devices} subscribers, ${messages} messages, payload ${payloadBytes} B (a signed emergency message), QoS 1; broker in a child process, clients in this one.`,
    ];
    const child = await startChild({ kind: 'aedes' });
    let base: ReturnType<typeof summarize>;
    try {
      ctx.log(`raw aedes fan-out to ${devices} subscribers`);
      const run = await rawAedesFanout(`mqtt://127.0.0.1:${child.ready.mqttPort}`, {
        subscribers: devices,
        payloadBytes,
        messages,
        qos: 1,
        stop: deadline(ctx, 0.4),
      });
      base = summarize(run.latenciesMs);
      notes.push(`raw aedes: ${run.delivered}/${run.expected} delivered over ${run.messages} messages.`);
    } finally {
      await child.stop();
    }
    const baseFigs = [
      figure('fanout.raw.p50', 'raw aedes fan-out p50', base.p50, 'ms'),
      figure('fanout.raw.p99', 'raw aedes fan-out p99', base.p99, 'ms'),
    ];
    let real: Awaited<ReturnType<typeof realEmergencyFanout>>;
    try {
      real = await realEmergencyFanout(ctx, { devices, messages: ctx.quick ? 1 : 5 });
    } catch (e) {
      if (e instanceof Unavailable) throw new Unavailable(e.message, { figures: baseFigs, notes });
      throw e;
    }
    const s = summarize(real.latenciesMs);
    notes.push(...real.notes);
    const result: ScenarioResult = {
      notes,
      figures: [
        figure('fanout.p50', 'emergency request → playing p50', s.p50, 'ms', {
          baseline: { label: 'raw aedes p50', value: base.p50, unit: 'ms' },
        }),
        figure('fanout.p99', 'emergency request → playing p99', s.p99, 'ms', {
          baseline: { label: 'raw aedes p99', value: base.p99, unit: 'ms' },
          goal: { better: 'lower', ratio: 1.5, text: '≤ 1.5× raw aedes' },
        }),
        ...(real.isolatedMs.length > 0
          ? [
              figure(
                'fanout.own-cpu',
                `emergency request → playing, one agent in its own process (median of ${real.isolatedMs.length} round${real.isolatedMs.length > 1 ? 's' : ''})`,
                summarize(real.isolatedMs).p50,
                'ms',
                {
                  baseline: { label: 'raw aedes p99', value: base.p99, unit: 'ms' },
                  note: 'a station has its own CPU; the others share one event loop here',
                },
              ),
            ]
          : []),
        ...baseFigs,
      ],
      details: { baseline: base, real: s, isolatedMs: real.isolatedMs, profile: real.profile },
    };
    return result;
  },
};
