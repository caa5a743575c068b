/**
 * Proof of display and never-black, end to end on the real kiosk server:
 *   - a frame the page painted becomes a signed, chained `kind: display` proof in the journal
 *     (started at the page's first-frame time, completed when the next item takes over);
 *   - the watchdog restarts the real Chromium (spawned headless by the agent's own driver, over
 *     DevTools) when the page stops beating and when the browser process dies, with an alert;
 *   - after a power cut the board shows the programme where it is now, not from the start.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromiumDisplay, cdpCall } from '../../../agent/src/drivers/display/chromium.js';
import { assertChain, cleanupTempDirs, silent, tempDir } from '../services/helpers.js';
import {
  ART,
  type DisplayHarness,
  device,
  launchChromium,
  openKiosk,
  signedBundle,
  startDisplay,
  waitOnScreen,
} from './harness.js';

let work: string;
const running: DisplayHarness[] = [];

beforeAll(async () => {
  work = await tempDir('loa-display-proof-');
});

afterAll(async () => {
  for (const h of running.splice(0)) await h.stop();
  await cleanupTempDirs();
});

async function start(opts: Parameters<typeof startDisplay>[1]): Promise<DisplayHarness> {
  const h = await startDisplay(work, opts);
  running.push(h);
  return h;
}

async function stopHarness(h: DisplayHarness): Promise<void> {
  running.splice(running.indexOf(h), 1);
  await h.stop();
}

describe('proof of display', () => {
  it('the painted frame becomes a signed display proof; the next item completes it', async () => {
    const b = await signedBundle(work, {
      id: 'hop-dan',
      channel: 'xa',
      items: [
        {
          id: 'hop',
          kind: 'text',
          title: 'Họp dân thôn Đồng Chằm',
          text: 'Tối thứ Sáu, 19 giờ.',
          durationMs: 4000,
        },
        {
          id: 'sau',
          kind: 'text',
          title: 'Vệ sinh môi trường',
          text: 'Sáng Chủ Nhật, 7 giờ.',
          durationMs: 60_000,
        },
      ],
      schedule: [{ id: 'toi', items: ['hop', 'sau'], rule: { type: 'immediate' } }],
    });
    const browser = await launchChromium();
    const h = await start({ bundles: [] });
    try {
      const page = await openKiosk(browser, h.display.url);
      // The page is up first, so the item's 4 s are not spent loading it.
      await page.waitForFunction("document.getElementById('idle')?.hidden === false");
      b.activatedAt = Date.now();
      h.display.setBundles([b]);
      const first = await waitOnScreen(h, (n) => n.itemId === 'hop');
      await waitOnScreen(h, (n) => n.itemId === 'sau', 10_000);
      await h.display.lane.record.flush();
      const proofs = await h.journal.read(1, 100);
      assertChain(proofs, device.publicKey);
      const hop = proofs.filter((p) => p.itemId === 'hop');
      expect(hop.map((p) => p.outcome)).toEqual(['started', 'completed']);
      for (const p of hop) {
        expect(p).toMatchObject({
          kind: 'display',
          deviceId: 'bang-tin-1',
          bundleId: 'hop-dan',
          channel: 'xa',
          bundleVersion: 1,
          entryId: 'toi',
          priority: 'normal',
          startedAt: first.since,
        });
      }
      // Completed when its 4 s slot ended, the next item taking over.
      const endedAt = Date.parse(hop[1]?.endedAt ?? '');
      expect(endedAt).toBeGreaterThan(Date.parse(first.since));
      // Not before its 4 s slot was over (how much later depends on the machine's load).
      expect(endedAt).toBeGreaterThanOrEqual(b.activatedAt + 4000 - 50);
      expect(endedAt - Date.parse(first.since)).toBeGreaterThan(3000);
      expect(proofs.find((p) => p.itemId === 'sau')?.outcome).toBe('started');
      await page.close();
    } finally {
      await browser.close();
    }
    await stopHarness(h);
  });

  it('a report for a key the agent never sent is not believed', async () => {
    const h = await start({ bundles: [] });
    const res = await fetch(h.display.url.replace('/kiosk/', '/kiosk/api/report'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'rendered', layer: 'main', key: 'bia/dat', at: Date.now() }),
    });
    expect(res.status).toBe(204);
    const bad = await fetch(h.display.url.replace('/kiosk/', '/kiosk/api/report'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'rendered', key: 1 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('REPORT_MALFORMED');
    await h.display.lane.record.flush();
    expect(await h.journal.read(1, 10)).toEqual([]);
    expect(h.display.lane.onScreen()).toBeNull();
    await stopHarness(h);
  });
});

describe('never black', () => {
  it('restarts the real browser when the page stops beating and when the browser dies; screenshots over DevTools', async () => {
    const b = await signedBundle(work, {
      id: 'lich',
      items: [
        { id: 'lich-tiem', kind: 'text', title: 'Lịch tiêm chủng tháng 12', text: 'Trạm y tế xã, 7 giờ 30.' },
      ],
    });
    const driver = new ChromiumDisplay({
      mode: 'spawn',
      headless: true,
      width: 1280,
      height: 720,
      logger: silent,
    });
    const h = await start({
      bundles: [b],
      driver,
      config: { watchdog: { heartbeatS: 3, stuckS: 5, startGraceS: 20 } },
    });
    await waitOnScreen(h, (n) => n.itemId === 'lich-tiem', 20_000);
    const png = await h.display.screenshot();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
    await mkdir(ART, { recursive: true });
    await writeFile(join(ART, 'devtools-screenshot.png'), png);
    // The page goes away (a renderer hang looks the same from here): no more heartbeats.
    const targets = (await (await fetch(`http://127.0.0.1:${driver.devtoolsPort}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const pageWs = targets.find((t) => t.type === 'page')?.webSocketDebuggerUrl as string;
    await cdpCall(pageWs, 'Page.navigate', { url: 'about:blank' });
    await expect
      .poll(() => h.alerts.map((a) => a.code), { timeout: 15_000, interval: 200 })
      .toContain('DISPLAY_NO_HEARTBEAT');
    expect(h.display.watchdog.restarts).toBe(1);
    await expect
      .poll(() => h.display.lane.heartbeats().last?.key, { timeout: 20_000 })
      .toBe(h.display.lane.state().frame?.key);
    // The browser process dies.
    const pid = (driver as unknown as { proc?: { pid?: number } }).proc?.pid as number;
    process.kill(pid, 'SIGKILL');
    await expect
      .poll(() => h.alerts.map((a) => a.code), { timeout: 15_000, interval: 200 })
      .toContain('DISPLAY_BROWSER_EXITED');
    await expect
      .poll(() => h.display.lane.heartbeats().last?.key, { timeout: 20_000 })
      .toBe(h.display.lane.state().frame?.key);
    expect(h.display.watchdog.restarts).toBe(2);
    const health = h.display.health();
    expect(health).toMatchObject({ restarts: 2, powerControl: 'none', onScreen: { itemId: 'lich-tiem' } });
    expect(health.heartbeatAgeMs).toBeLessThan(5000);
    await stopHarness(h);
    expect(h.alerts.map((a) => a.code)).toEqual(['DISPLAY_NO_HEARTBEAT', 'DISPLAY_BROWSER_EXITED']);
    expect(driver.running()).toBe(false);
  }, 90_000);

  it('a screenshot asked for while the browser restarts waits for the new browser', async () => {
    const driver = new ChromiumDisplay({
      mode: 'spawn',
      headless: true,
      width: 640,
      height: 360,
      logger: silent,
    });
    await driver.start('data:text/html,<body style="background:%23c00"><h1>Loa</h1></body>');
    try {
      const oldPort = driver.devtoolsPort;
      // The watchdog's restart and a screenshot command arrive together (the old DevTools port
      // closes under the capture): the capture comes from the new browser, not ECONNREFUSED.
      const restarting = driver.restart();
      const png = await driver.screenshot();
      await restarting;
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(driver.devtoolsPort).not.toBe(oldPort);
      expect(driver.running()).toBe(true);
    } finally {
      await driver.stop();
    }
  }, 60_000);

  it('after a power cut the board shows the programme where it is now, not from its start', async () => {
    const activatedAt = Date.now();
    const spec = {
      id: 'chuong-trinh',
      activatedAt,
      items: [
        { id: 'mot', kind: 'text' as const, title: 'Bản tin một', text: 'Một.', durationMs: 60_000 },
        { id: 'hai', kind: 'text' as const, title: 'Bản tin hai', text: 'Hai.', durationMs: 60_000 },
      ],
      schedule: [{ id: 'sang', items: ['mot', 'hai'], rule: { type: 'immediate' as const } }],
    };
    const b = await signedBundle(work, spec);
    const stateFile = join(work, 'display-state.json');
    const before = await start({ bundles: [b], stateFile });
    const f1 = before.display.lane.state().frame;
    expect(f1?.itemId).toBe('mot');
    await new Promise((r) => setTimeout(r, 1500));
    // Power cut: the process is gone without stopping anything; the state file is what survives.
    const cut = Date.now();
    const after = await start({ bundles: [b], stateFile, journalDir: join(work, 'journal-after') });
    const f2 = after.display.lane.state().frame;
    expect(f2?.itemId).toBe('mot');
    expect(Math.abs((f2?.end ?? 0) - (f1?.end ?? 0))).toBeLessThan(1000);
    // Without the state the programme would have restarted: 60 s from now.
    expect((f2?.end ?? 0) - cut).toBeLessThan(59_000);
    const browser = await launchChromium();
    try {
      const page = await openKiosk(browser, after.display.url);
      await waitOnScreen(after, (n) => n.itemId === 'mot');
      expect(await page.locator('.bulletin h1').innerText()).toBe('Bản tin một');
    } finally {
      await browser.close();
    }
    await stopHarness(after);
    await stopHarness(before);
  });
});
