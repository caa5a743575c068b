/**
 * Scenario 6: one real agent process (npm run agent's entry, simulated GPIO/modem, the REAL
 * audio driver: ffmpeg decoding into a null sink paced in real time) enrolled with the real
 * fleet server. Measures process start → ready (its own readyMs and the wall time including
 * Node/tsx start), idle and playing CPU/RSS of the agent with its ffmpeg children, and how
 * close to the scheduled instant each slot started (from its signed proofs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetApi } from '../../sim/fleet-api.js';
import { startChild } from '../child.js';
import { figure, type Scenario } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { median, round } from '../stats.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../../..');

interface ProofRow {
  outcome: string;
  scheduledAt?: string;
  startedAt?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const agent: Scenario = {
  name: 'agent',
  title: 'Agent: start-to-ready, idle and playing CPU/RSS, scheduled-start accuracy',
  budgetMs: { quick: 60_000, full: 150_000 },
  async run(ctx) {
    const child = await startChild(
      { kind: 'fleet', options: { dataDir: join(ctx.tmpDir, 'server'), devices: 1 } },
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
    const toneS = ctx.quick ? 8 : 20;
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
    writeFileSync(
      cfgPath,
      JSON.stringify({
        device: { dataDir, name: 'bench agent' },
        fleet: { url: info.url, enrolmentToken: info.tokens[0], healthIntervalS: 60 },
        trust: { rootKeys: [rootPem] },
        hardware: {
          gpio: { driver: 'sim' },
          amplifier: { pin: 17, warmupMs: 1000, idleTailMs: 5000 },
          inputs: { mains: { pin: 5, activeLow: true } },
          modem: { driver: 'sim', path: '/dev/ttyUSB2', powerPin: 24 },
        },
        audio: { driver: 'real', output: { type: 'null' } },
        technician: { enabled: false },
        log: { level: 'info' },
      }),
    );
    const spawnedAt = performance.now();
    const proc = spawn(
      process.execPath,
      ['--conditions=@loa/source', '--import', 'tsx', 'agent/src/main.ts', '--config', cfgPath],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: '' },
      },
    );
    let readyMs: number | undefined;
    let readyWallMs: number | undefined;
    let buf = '';
    proc.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const j = JSON.parse(line) as { msg?: string; readyMs?: number };
          if (j.msg === 'agent started' && readyMs === undefined) {
            readyMs = j.readyMs;
            readyWallMs = performance.now() - spawnedAt;
          }
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr.resume();
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    try {
      const end = performance.now() + 90_000;
      while (
        (readyMs === undefined || (await child.query<{ online: number }>('stats')).online < 1) &&
        performance.now() < end
      )
        await sleep(100);
      if (readyMs === undefined) throw new Error('the agent did not log "agent started"');
      const pid = proc.pid as number;
      // idle
      const idle = new ProcessSampler(pid, 250, true);
      idle.start();
      await sleep(ctx.quick ? 5000 : 20_000);
      const idleP = idle.stop();
      // a programme of slots, signed by editor and approver, published through the server
      const slots = ctx.quick ? 1 : 3;
      const first = Date.now() + (ctx.quick ? 8000 : 12_000);
      const times = Array.from({ length: slots }, (_, i) =>
        new Date(first + i * (toneS + 8) * 1000).toISOString(),
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
      await sleep(Math.max(0, first - Date.now() + 2000));
      const playing = new ProcessSampler(pid, 250, true);
      playing.start();
      await sleep((toneS - 4) * 1000);
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
      notes.push(
        `agent process with the real ffmpeg audio driver (null sink, paced), simulated GPIO and modem; ${slots} scheduled slot(s) of a ${toneS} s tone, amplifier warm-up 1 s (the scheduler starts it ahead).`,
        `start → ready: ${round(readyMs)} ms inside the agent (its readyMs), ${round(readyWallMs ?? 0)} ms from spawn (Node + tsx + sources from the repository; a compiled build starts faster).`,
        `scheduled-start offsets (started − scheduled, ms): ${offsets.map(round).join(', ') || 'none recorded'}.`,
      );
      const figures = [
        figure('agent.ready', 'agent start → ready (readyMs)', readyMs, 'ms'),
        figure(
          'agent.ready.wall',
          'agent spawn → ready (with Node + tsx start)',
          readyWallMs ?? Number.NaN,
          'ms',
        ),
        figure('agent.idle.cpu', 'agent idle CPU', idleP.cpuPercent, '% of a core'),
        figure('agent.idle.rss', 'agent idle RSS', idleP.rssMeanMb, 'MB'),
        figure('agent.play.cpu', 'agent playing CPU (with ffmpeg)', playP.cpuPercent, '% of a core'),
        figure('agent.play.rss', 'agent playing RSS (with ffmpeg)', playP.rssPeakMb, 'MB'),
      ];
      if (offsets.length)
        figures.push(
          figure(
            'agent.start.offset',
            'scheduled start accuracy, median |started − scheduled|',
            median(offsets.map(Math.abs)),
            'ms',
          ),
          figure(
            'agent.start.offset.max',
            'scheduled start accuracy, worst |started − scheduled|',
            Math.max(...offsets.map(Math.abs)),
            'ms',
          ),
        );
      return { notes, figures, details: { idle: idleP, playing: playP, offsets } };
    } finally {
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await child.stop();
    }
  },
};
