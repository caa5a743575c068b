/**
 * Scenario: the noticeboard screen. The real display service (kiosk server on 127.0.0.1, display
 * lane, watchdog) drives Debian's Chromium, spawned headless by the agent's own driver:
 *   - emergency overlay latency: the signed emergency bundle handed to the display (as the bundle
 *     store does on acceptance) → the page reports the overlay painted (double rAF);
 *   - time to first frame after a page reload (the page loads, reads the state, fits the bulletin
 *     and paints it) and after a full browser restart (the watchdog's remedy);
 * each beside a blank page load (about:blank to its first paint) measured in the same run.
 */

import {
  ChromiumDisplay,
  cdpCall,
  DisplayConfigSchema,
  DisplayService,
  ProofJournal,
  SimScreenPower,
} from '@loa/agent';
import { generateKeyPair, type Manifest } from '@loa/protocol';
import { pino } from 'pino';
import { figure, type Scenario, Unavailable } from '../harness.js';
import { median, round } from '../stats.js';

const PAINTED =
  'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.timeOrigin + performance.now()))))';

interface PageReport {
  type: string;
  layer?: string;
  key?: string | null;
  at?: number;
}

function manifest(
  id: string,
  channel: string,
  items: Manifest['items'],
  schedule?: Manifest['schedule'],
): Manifest {
  return {
    type: 'loa-bundle',
    format: 1,
    id,
    channel,
    version: 1,
    created: new Date(Date.now() - 60_000).toISOString(),
    expires: new Date(Date.now() + 3_600_000).toISOString(),
    targets: [{ unit: '08/02500' }],
    items,
    ...(schedule ? { schedule } : {}),
    signatures: [],
  };
}

export const display: Scenario = {
  name: 'display',
  title: 'Noticeboard: emergency overlay latency and time to first frame, beside a blank page load',
  budgetMs: { quick: 30_000, full: 90_000 },
  async run(ctx) {
    const rounds = ctx.quick ? 5 : 15;
    const logger = pino({ level: 'silent' });
    const journal = new ProofJournal({
      dir: `${ctx.tmpDir}/journal`,
      privateKey: generateKeyPair().privateKey,
      deviceId: () => 'bench-board',
      clock: { now: () => Date.now() },
      logger,
    });
    await journal.start();
    const driver = new ChromiumDisplay({ mode: 'spawn', headless: true, width: 1280, height: 720, logger });
    const svc = new DisplayService({
      config: DisplayConfigSchema.parse({ port: 0, unitName: 'UBND xã Sơn Dương' }),
      clock: { now: () => Date.now(), trusted: () => true },
      timers: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      logger,
      policy: { utcOffset: '+07:00' },
      proofs: journal,
      relays: () => ({ amplifier: false }),
      driver,
      power: new SimScreenPower(),
      stateFile: `${ctx.tmpDir}/display.json`,
    });
    const board = {
      manifest: manifest('ban-tin', 'xa', [
        {
          id: 'tb',
          title: 'Thông báo tiêm phòng cho gia súc, gia cầm',
          kind: 'text',
          priority: 'normal',
          lang: 'vi',
          text: 'Từ ngày 10/12/2026, người dân mang gia súc, gia cầm đến điểm tiêm phòng tại nhà văn hoá thôn.',
        },
      ]),
      blobDir: ctx.tmpDir,
      activatedAt: Date.now(),
    };
    svc.setBundles([board]);
    const reports: PageReport[] = [];
    svc.lane.on('report', (r: PageReport) => {
      reports.push(r);
    });
    const waitReport = async (
      what: string,
      pred: (r: PageReport) => boolean,
      from: number,
      timeoutMs = 15_000,
    ) => {
      const t0 = Date.now();
      for (;;) {
        const r = reports.slice(from).find(pred);
        if (r) return r;
        if (Date.now() - t0 > timeoutMs) throw new Error(`the page did not report ${what} in time`);
        await new Promise((res) => setTimeout(res, 2));
      }
    };
    try {
      try {
        await svc.start();
      } catch (e) {
        throw new Unavailable(`Chromium not available: ${(e as Error).message}`);
      }
      const frameKey = () => svc.lane.state().frame?.key;
      await waitReport('its first frame', (r) => r.type === 'rendered' && r.key === frameKey(), 0, 30_000);
      const pageWs = async () => {
        const res = await fetch(`http://127.0.0.1:${driver.devtoolsPort}/json/list`);
        const list = (await res.json()) as { type: string; url: string; webSocketDebuggerUrl: string }[];
        const p = list.find((t) => t.type === 'page');
        if (!p) throw new Error('no page target');
        return p.webSocketDebuggerUrl;
      };

      const blank: number[] = [];
      const reload: number[] = [];
      const overlay: number[] = [];
      for (let i = 0; i < rounds; i++) {
        // Baseline: a blank page load to its first paint, in the same browser.
        let ws = await pageWs();
        let t0 = Date.now();
        await cdpCall(ws, 'Page.navigate', { url: 'about:blank' });
        const paintedAt = await cdpCall<{ result: { value: number } }>(ws, 'Runtime.evaluate', {
          expression: PAINTED,
          awaitPromise: true,
        });
        blank.push(paintedAt.result.value - t0);
        // The kiosk page again: load, state over SSE, fitting, first frame painted.
        ws = await pageWs();
        let from = reports.length;
        t0 = Date.now();
        await cdpCall(ws, 'Page.navigate', { url: svc.url });
        const r = await waitReport(
          'the reloaded frame',
          (x) => x.type === 'rendered' && x.layer === 'main',
          from,
        );
        reload.push((r.at ?? 0) - t0);
        // An emergency accepted now → overlay painted.
        const em = {
          manifest: manifest(
            `emergency-v${i + 1}`,
            'emergency',
            [
              {
                id: 'alert-text',
                title: 'Cảnh báo lũ quét cấp độ 3',
                kind: 'text',
                priority: 'emergency',
                lang: 'vi',
                text: 'Người dân di chuyển ngay đến nơi an toàn, không qua ngầm tràn.',
                durationMs: 60_000,
              },
            ],
            [{ id: 'now', items: ['alert-text'], rule: { type: 'immediate' } }],
          ),
          blobDir: ctx.tmpDir,
          activatedAt: Date.now(),
        };
        from = reports.length;
        t0 = Date.now();
        svc.setBundles([board, em]);
        const o = await waitReport(
          'the overlay',
          (x) => x.type === 'rendered' && x.layer === 'emergency',
          from,
        );
        overlay.push((o.at ?? 0) - t0);
        svc.setBundles([board]);
        await waitReport(
          'the overlay cleared',
          (x) => x.type === 'heartbeat' && (x as { overlay?: string | null }).overlay === null,
          reports.length,
        );
        ctx.log(
          `round ${i + 1}: open event streams ${svc.lane.streams()}, blank ${round(blank[i] ?? 0)} ms, reload ${round(reload[i] ?? 0)} ms, overlay ${round(overlay[i] ?? 0)} ms`,
        );
      }

      // The watchdog's remedy: the whole browser restarted → first frame.
      const restart: number[] = [];
      for (let i = 0; i < Math.min(3, rounds); i++) {
        const from = reports.length;
        const t0 = Date.now();
        await driver.restart();
        const r = await waitReport(
          'the restarted frame',
          (x) => x.type === 'rendered' && x.layer === 'main',
          from,
          30_000,
        );
        restart.push((r.at ?? 0) - t0);
      }
      const base = {
        label: 'blank page load to first paint (same browser)',
        value: round(median(blank)),
        unit: 'ms',
      };
      return {
        notes: [
          `${rounds} rounds of: about:blank to first paint, the kiosk page to its first frame, an emergency to its overlay painted; then ${restart.length} browser restarts.`,
          'Headless Chromium with --disable-gpu on this machine; a Pi 4 under cage paints through its GPU and is slower to start.',
          'The requirement is the overlay on screen within 1 s of the emergency being accepted.',
          'Each page left by a reload used to keep its event stream open (back/forward cache), so after five reloads the browser had no free connection to the kiosk server and the page reports (overlay painted) waited seconds (worst 1,691 ms, then 3,039 and 3,689 ms in quick runs); the page now closes its stream on pagehide and the server drops a stream whose socket closed.',
          `overlay latencies (ms): ${overlay.map((x) => round(x)).join(', ')}`,
        ],
        figures: [
          figure(
            'display.overlay.median',
            'emergency accepted → overlay painted, median',
            round(median(overlay)),
            'ms',
            {
              baseline: base,
            },
          ),
          figure(
            'display.overlay.max',
            'emergency accepted → overlay painted, worst',
            round(Math.max(...overlay)),
            'ms',
            {
              baseline: base,
            },
          ),
          figure(
            'display.reload.ttff',
            'page reload → first frame of the bulletin, median',
            round(median(reload)),
            'ms',
            {
              baseline: base,
            },
          ),
          figure(
            'display.restart.ttff',
            'browser restart → first frame, median',
            round(median(restart)),
            'ms',
            {
              baseline: base,
            },
          ),
        ],
        details: { blank, reload, overlay, restart },
      };
    } finally {
      await svc.stop();
      await journal.stop();
    }
  },
};
