/**
 * Scenario 6: one real agent process run as a station runs it (the compiled build,
 * agent/bin/loa-agent.js, built here with `tsc -b agent`; simulated GPIO/modem, the REAL audio
 * driver: ffmpeg decoding into a null sink paced in real time) enrolled with the real fleet
 * server. Measures process start → ready (its own readyMs and the wall time including Node
 * start), idle CPU/RSS once settled (enrolled, linked, first health sent; a 20 s window in quick
 * mode, the RSS median and peak of the agent alone, descendants counted separately), playing
 * CPU/RSS with its ffmpeg children, and how close to the scheduled instant each of five slots
 * started (from its signed proofs; median and worst). A second, shorter run of the
 * development entry (TypeScript through tsx) gives its idle RSS on a separate line: tsx's
 * loader thread and esbuild service process are counted there, which no station carries.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetApi } from '../../sim/fleet-api.js';
import { agentConfig, buildAgent, COMPILED, DEV_TSX, spawnAgent, waitReady } from '../agent-process.js';
import { startChild } from '../child.js';
import { figure, type Scenario } from '../harness.js';
import { descendants, ProcessSampler, readProcess, readProcessTree } from '../proc-sampler.js';
import { median, round } from '../stats.js';

interface ProofRow {
  outcome: string;
  scheduledAt?: string;
  startedAt?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Idle figures over a window: RSS of the agent alone and with any descendants, CPU of both. */
interface IdleProfile {
  windowMs: number;
  samples: number;
  cpuPercent: number;
  rssMedianMb: number;
  rssPeakMb: number;
  rssMinMb: number;
  /** With descendants (an idle station should have none: no ffmpeg between programmes). */
  treeRssMedianMb: number;
  maxDescendants: number;
}

/** Samples `pid` every `everyMs` for `windowMs` (the agent settled first: enrolled, linked, health sent). */
async function sampleIdle(pid: number, windowMs: number, everyMs = 500): Promise<IdleProfile> {
  const mb = (b: number) => b / (1024 * 1024);
  const own: number[] = [];
  const tree: number[] = [];
  let maxDescendants = 0;
  const begin = readProcessTree(pid);
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    own.push(mb(readProcess(pid).rssBytes));
    tree.push(mb(readProcessTree(pid).rssBytes));
    maxDescendants = Math.max(maxDescendants, descendants(pid).length);
    await sleep(everyMs);
  }
  const end = readProcessTree(pid);
  const wallMs = performance.now() - t0;
  return {
    windowMs: wallMs,
    samples: own.length,
    cpuPercent: (100 * (end.cpuMs - begin.cpuMs)) / wallMs,
    rssMedianMb: median(own),
    rssPeakMb: Math.max(...own),
    rssMinMb: Math.min(...own),
    treeRssMedianMb: median(tree),
    maxDescendants,
  };
}

/** Issue 3's goals for an idle station. */
const IDLE_RSS_GOAL_MB = 70;
const IDLE_CPU_GOAL = 1;
const READY_GOAL_MS = 1500;
const ACCURACY_GOAL_MS = 100;

export const agent: Scenario = {
  name: 'agent',
  title: 'Agent: start-to-ready, idle and playing CPU/RSS, scheduled-start accuracy',
  budgetMs: { quick: 120_000, full: 240_000 },
  async run(ctx) {
    const child = await startChild(
      { kind: 'fleet', options: { dataDir: join(ctx.tmpDir, 'server'), devices: 2 } },
      120_000,
    );
    const info = child.ready.info as {
      url: string;
      tokens: string[];
      rootPublicKeyPem: string;
      editorToken: string;
      approverToken: string;
    };
    const notes: string[] = [];
    const editor = new FleetApi(info.url, info.editorToken);
    const approver = new FleetApi(info.url, info.approverToken);
    // Five slots a few seconds apart (the amplifier's 5 s idle tail spans the gaps).
    // quick mode keeps the whole suite under two minutes: shorter tone and idle window, and the
    // development-entry comparison only in the full run
    const toneS = ctx.quick ? 4 : 12;
    const slots = 5;
    const gapS = ctx.quick ? 2 : 3;
    const settleMs = ctx.quick ? 3000 : 5000;
    const idleWindowMs = ctx.quick ? 15_000 : 60_000;
    const wav = join(ctx.tmpDir, 'tone.wav');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${toneS}`,
      '-ac',
      '1',
      wav,
    ]);
    const q = new URLSearchParams({ title: 'Âm thử', unit: '08', lang: 'vi', name: 'tone.wav' });
    const content = await editor.call<{ id: string }>('post', `/content/upload?${q}`, undefined, {
      raw: readFileSync(wav),
      contentType: 'audio/wav',
    });
    const rootPem = join(ctx.tmpDir, 'root.pub.pem');
    writeFileSync(rootPem, info.rootPublicKeyPem);
    const dataDir = join(ctx.tmpDir, 'agent');
    const cfgPath = join(ctx.tmpDir, 'agent.json');
    writeFileSync(cfgPath, JSON.stringify(agentConfig(dataDir, info.url, info.tokens[0] as string, rootPem)));
    // The station runs the compiled build: build it (incremental, quick when up to date).
    const tscErrors = buildAgent();
    if (tscErrors) notes.push(`tsc -b agent reported errors: ${tscErrors}`);
    const online = async () => (await child.query<{ online: number }>('stats')).online;
    const agentProc = spawnAgent(COMPILED, cfgPath);
    const proc = agentProc.proc;
    let tsxIdle: IdleProfile | undefined;
    try {
      await waitReady(agentProc, online, 1);
      const { readyMs, wallMs: readyWallMs } = agentProc.ready() as { readyMs: number; wallMs: number };
      const pid = proc.pid as number;
      // idle: settled (enrolled, linked, first health sent), then a window of samples
      await sleep(settleMs);
      const idle = await sampleIdle(pid, idleWindowMs);
      // a programme of slots, signed by editor and approver, published through the server
      const first = Date.now() + (ctx.quick ? 6000 : 12_000);
      const times = Array.from({ length: slots }, (_, i) =>
        new Date(first + i * (toneS + gapS) * 1000).toISOString(),
      );
      const b = await editor.post<{ id: string }>('/bundles', {
        channel: 'bench-agent',
        targets: [{ unit: '08' }],
        items: [{ content: content.id, id: 'am-thu' }],
        schedule: times.map((at, i) => ({ id: `slot-${i}`, items: ['am-thu'], rule: { type: 'once', at } })),
      });
      await editor.post(`/bundles/${b.id}/submit`, { sign: true });
      await approver.post(`/bundles/${b.id}/approve`, { sign: true });
      await approver.post(`/bundles/${b.id}/publish`);
      // playing: inside the first slot
      await sleep(Math.max(0, first - Date.now() + 1000));
      const playing = new ProcessSampler(pid, 250, true);
      playing.start();
      await sleep((toneS - 2) * 1000);
      const playP = playing.stop();
      const deviceId = (
        JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { deviceId: string }
      ).deviceId;
      let rows: ProofRow[] = [];
      const until = Date.parse(times.at(-1) as string) + toneS * 1000 + 20_000;
      while (Date.now() < until) {
        rows = await child.query<ProofRow[]>('proofs', deviceId);
        if (rows.filter((r) => r.outcome === 'completed').length >= slots) break;
        await sleep(500);
      }
      const offsets = rows
        .filter((r) => r.outcome === 'started' && r.scheduledAt && r.startedAt)
        .map((r) => Date.parse(r.startedAt as string) - Date.parse(r.scheduledAt as string));
      await agentProc.stop();
      // The development entry for comparison (a second device, its own data dir; idle only), in
      // the full run only.
      const tsxCfg = join(ctx.tmpDir, 'agent-tsx.json');
      writeFileSync(
        tsxCfg,
        JSON.stringify(
          // one token serves both devices (the bench fleet makes one per 500 devices)
          agentConfig(join(ctx.tmpDir, 'agent-tsx'), info.url, info.tokens[0] as string, rootPem),
        ),
      );
      const tsxProc = ctx.quick ? undefined : spawnAgent(DEV_TSX, tsxCfg);
      try {
        if (tsxProc) {
          await waitReady(tsxProc, online, 1);
          await sleep(settleMs);
          tsxIdle = await sampleIdle(tsxProc.proc.pid as number, 20_000);
        }
      } catch (err) {
        notes.push(`the tsx comparison run failed: ${(err as Error).message}`);
      } finally {
        await tsxProc?.stop();
      }
      notes.push(
        `agent process with the real ffmpeg audio driver (null sink, paced), simulated GPIO and modem; ${slots} scheduled slots of a ${toneS} s tone ${gapS} s apart, amplifier warm-up 1 s (the scheduler starts it ahead).`,
        `the compiled build (node ${COMPILED.join(' ')}${process.env.LOA_BENCH_AGENT_FLAGS ? ', flags from LOA_BENCH_AGENT_FLAGS' : ', as loa-agent.service runs it'}); start → ready: ${round(readyMs)} ms inside the agent (its readyMs), ${round(readyWallMs)} ms from spawn (with Node start).`,
        `idle: ${settleMs / 1000} s after enrolment, link up and the first health, then ${round(idle.windowMs / 1000)} s of samples every 0.5 s: RSS median ${round(idle.rssMedianMb)} MB (min ${round(idle.rssMinMb)}, peak ${round(idle.rssPeakMb)}), with descendants ${round(idle.treeRssMedianMb)} MB (at most ${idle.maxDescendants} descendant process(es)); CPU ${round(idle.cpuPercent)} % of a core.`,
        ...(tsxIdle
          ? [
              `the development entry (tsx, TypeScript sources) idles at ${round(tsxIdle.treeRssMedianMb)} MB RSS median with its descendants (tsx's esbuild service process included), ${round(tsxIdle.rssMedianMb)} MB the Node process alone; no station runs it.`,
            ]
          : []),
        `scheduled-start offsets (started − scheduled, ms): ${offsets.map(round).join(', ') || 'none recorded'}.`,
      );
      const figures = [
        figure('agent.ready', 'agent start → ready (readyMs)', readyMs, 'ms'),
        figure(
          'agent.ready.wall',
          'agent spawn → ready (compiled build, with Node start)',
          readyWallMs,
          'ms',
          {
            goal: { better: 'lower', limit: READY_GOAL_MS, text: `≤ ${READY_GOAL_MS / 1000} s (issue 3)` },
          },
        ),
        figure(
          'agent.idle.cpu',
          `agent idle CPU (${round(idle.windowMs / 1000)} s window)`,
          idle.cpuPercent,
          '% of a core',
          {
            goal: { better: 'lower', limit: IDLE_CPU_GOAL, text: `≤ ${IDLE_CPU_GOAL} % of a core (issue 3)` },
          },
        ),
        figure('agent.idle.rss', 'agent idle RSS, median over the window', idle.rssMedianMb, 'MB', {
          goal: { better: 'lower', limit: IDLE_RSS_GOAL_MB, text: `≤ ${IDLE_RSS_GOAL_MB} MB (issue 3)` },
        }),
        figure('agent.idle.rss.peak', 'agent idle RSS, peak over the window', idle.rssPeakMb, 'MB'),
        figure('agent.play.cpu', 'agent playing CPU (with ffmpeg)', playP.cpuPercent, '% of a core'),
        figure('agent.play.rss', 'agent playing RSS (with ffmpeg)', playP.rssPeakMb, 'MB'),
      ];
      if (tsxIdle)
        figures.push(
          figure(
            'agent.idle.rss.tsx',
            'agent idle RSS, development entry through tsx (median, Node process alone)',
            tsxIdle.rssMedianMb,
            'MB',
          ),
        );
      if (offsets.length)
        figures.push(
          figure(
            'agent.start.offset',
            `scheduled start accuracy, median |started − scheduled| (${offsets.length} slots)`,
            median(offsets.map(Math.abs)),
            'ms',
          ),
          figure(
            'agent.start.offset.max',
            `scheduled start accuracy, worst |started − scheduled| (${offsets.length} slots)`,
            Math.max(...offsets.map(Math.abs)),
            'ms',
            {
              goal: { better: 'lower', limit: ACCURACY_GOAL_MS, text: `≤ ${ACCURACY_GOAL_MS} ms (issue 3)` },
            },
          ),
        );
      return { notes, figures, details: { idle, playing: playP, offsets, tsxIdle } };
    } finally {
      await agentProc.stop();
      await child.stop();
    }
  },
};
