/**
 * A commune's public page right after an emergency: 1,000 phones (concurrent HTTP clients, each
 * looping) open `/p/08/02500` just after an emergency was sent there (the server drops its cached
 * view at that moment, so the first wave rebuilds it), for a few seconds. Figures: p99 latency and
 * the fleet server's CPU, beside a plain Node static-file server serving the same page bytes from
 * disk to the same 1,000 clients in the same run (the baseline: what serving the page cannot beat).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { startChild } from '../child.js';
import { figure, type Scenario } from '../harness.js';
import { ProcessSampler, type ProcProfile } from '../proc-sampler.js';
import { round, summarize } from '../stats.js';

interface LoadResult {
  latencies: number[];
  errors: number;
  statuses: Record<number, number>;
  bytes: number;
  wallMs: number;
  profile: ProcProfile;
}

async function load(pid: number, url: string, clients: number, durationMs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const once = () =>
    new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const req = get(url, { agent, headers: { 'user-agent': 'bench-phone' } }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: n }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let bytes = 0;
  const sampler = new ProcessSampler(pid, 100);
  sampler.start();
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const r = await once();
          bytes += r.bytes;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const wallMs = performance.now() - start;
  const profile = sampler.stop();
  agent.destroy();
  return { latencies, errors, statuses, bytes, wallMs, profile };
}

async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

export const publicPage: Scenario = {
  name: 'public-page',
  title: "A commune's public page under 1,000 concurrent phones right after an emergency",
  budgetMs: { quick: 60_000, full: 120_000 },
  async run(ctx) {
    const clients = 1000;
    const durationMs = ctx.quick ? 4000 : 15_000;
    const fleet = await startChild({
      kind: 'fleet',
      options: { dataDir: join(ctx.tmpDir, 'server'), devices: 0, citizens: true },
    });
    let stat: Awaited<ReturnType<typeof startChild>> | undefined;
    try {
      const info = fleet.ready.info as {
        url: string;
        editorToken: string;
        approverToken: string;
        operatorToken: string;
      };
      const base = info.url;
      // a public bulletin published on the commune, then an emergency there
      const texts: string[] = [];
      for (let i = 0; i < 12; i++) {
        const c = (await api(base, info.editorToken, 'POST', '/content/text', {
          title: `Bản tin số ${i + 1} của xã`,
          unit: '08/02500',
          text: 'Thông báo của Ủy ban nhân dân xã về lịch tiêm phòng, lịch cắt điện và kế hoạch gieo cấy vụ đông xuân. '.repeat(
            3,
          ),
          public: true,
        })) as { id: string };
        texts.push(c.id);
      }
      const draft = (await api(base, info.editorToken, 'POST', '/bundles', {
        channel: 'xa-02500',
        items: texts.map((content) => ({ content })),
        targets: [{ unit: '08/02500' }],
        schedule: [
          { id: 'sang', items: texts.slice(0, 3), rule: { type: 'daily', times: ['05:30', '17:00'] } },
        ],
      })) as { id: string };
      await api(base, info.editorToken, 'POST', `/bundles/${draft.id}/submit`, { sign: true });
      await api(base, info.approverToken, 'POST', `/bundles/${draft.id}/approve`, { sign: true });
      await api(base, info.approverToken, 'POST', `/bundles/${draft.id}/publish`);
      const url = `${base}/p/08/02500`;
      // the static baseline serves the very bytes of the page
      const dir = join(ctx.tmpDir, 'static');
      mkdirSync(dir, { recursive: true });
      await api(base, info.operatorToken, 'POST', '/emergency', {
        unit: '08/02500',
        title: 'Cảnh báo lũ quét',
        text: 'Nước suối dâng cao, bà con tránh xa bờ suối.',
      });
      const page = Buffer.from(await (await fetch(url)).arrayBuffer());
      writeFileSync(join(dir, 'page.html'), page);
      stat = await startChild({ kind: 'static', dir });
      const staticUrl = `http://127.0.0.1:${stat.ready.httpPort}/page.html`;

      ctx.log(`baseline: ${clients} clients on the static file (${page.length} bytes) for ${durationMs} ms`);
      const s = await load(stat.pid, staticUrl, clients, durationMs);
      // right after a new emergency: the cached view is dropped and rebuilt under the wave
      await api(base, info.operatorToken, 'POST', '/emergency', {
        unit: '08/02500',
        title: 'Cảnh báo sạt lở đất',
        text: 'Bà con thôn Khuôn Lăn di chuyển ngay đến nơi an toàn.',
      });
      ctx.log(`fleet server: ${clients} clients on ${url} for ${durationMs} ms`);
      const f = await load(fleet.pid, url, clients, durationMs);
      const fs = summarize(f.latencies);
      const ss = summarize(s.latencies);
      const fRate = (f.latencies.length / f.wallMs) * 1000;
      const sRate = (s.latencies.length / s.wallMs) * 1000;
      ctx.log(
        `page: ${f.latencies.length} answers (${JSON.stringify(f.statuses)}, ${f.errors} errors), p99 ${round(fs.p99)} ms, CPU ${round(f.profile.cpuPercent)} %; static: p99 ${round(ss.p99)} ms, CPU ${round(s.profile.cpuPercent)} %`,
      );
      const cpuPerKReq = (p: ProcProfile, n: number) => (n > 0 ? p.cpuMs / (n / 1000) : Number.NaN);
      return {
        figures: [
          figure(
            'public-page-p99',
            'Public page p99 latency, 1,000 concurrent phones after an emergency',
            round(fs.p99),
            'ms',
            {
              baseline: {
                label: 'static file server, same bytes, same clients',
                value: round(ss.p99),
                unit: 'ms',
              },
              goal: { better: 'lower', ratio: 5, text: 'p99 ≤ 5 × static' },
            },
          ),
          figure('public-page-rate', 'Public pages served per second', round(fRate), 'req/s', {
            baseline: { label: 'static file server', value: round(sRate), unit: 'req/s' },
            goal: { better: 'higher', ratio: 0.2, text: '≥ 0.2 × static' },
          }),
          figure(
            'public-page-cpu',
            'Server CPU per 1,000 pages served',
            round(cpuPerKReq(f.profile, f.latencies.length)),
            'ms',
            {
              baseline: {
                label: 'static file server',
                value: round(cpuPerKReq(s.profile, s.latencies.length)),
                unit: 'ms',
              },
              goal: { better: 'lower', ratio: 5, text: '≤ 5 × static' },
              note: `fleet server ${round(f.profile.cpuPercent)} % of a core on average, static ${round(s.profile.cpuPercent)} %`,
            },
          ),
          figure(
            'public-page-errors',
            'Failed or non-200 answers',
            f.errors + f.latencies.length - (f.statuses[200] ?? 0),
            'requests',
            {
              goal: { better: 'lower', limit: 0, text: 'none' },
            },
          ),
        ],
        notes: [
          `${clients} concurrent keep-alive clients, each looping for ${durationMs} ms; page ${page.length} bytes (with the emergency banner)`,
          `p50 ${round(fs.p50)} ms (static ${round(ss.p50)} ms), max ${round(fs.max)} ms (static ${round(ss.max)} ms)`,
          'the server rebuilds its cached view once after the emergency and serves every other request from it',
        ],
      };
    } finally {
      await stat?.stop();
      await fleet.stop();
    }
  },
};
