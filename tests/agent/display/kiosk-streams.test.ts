/**
 * Reloads never pile up event streams: a page left by a reload closes its stream (pagehide) and
 * the kiosk server drops a stream whose socket closed, so after many reloads there is one stream
 * to the page on screen and the browser always has a connection free for the page's reports (an
 * emergency overlay painted is reported at once, not after seconds waiting for a connection).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChromiumDisplay, cdpCall } from '../../../agent/src/drivers/display/chromium.js';
import { silent } from '../services/helpers.js';
import { signedBundle, startDisplay, waitOnScreen } from './harness.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loa-kiosk-streams-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('kiosk event streams', () => {
  it('keeps one stream per page across eight reloads, and the overlay is still reported after them', async () => {
    const board = await signedBundle(work, {
      id: 'ban-tin',
      items: [{ id: 'tb', kind: 'text', title: 'Thông báo', text: 'Họp dân lúc 19 giờ tại nhà văn hoá.' }],
    });
    // The agent's own driver (Debian's Chromium as a board runs it, back/forward cache on),
    // navigated over DevTools as a reload or a crashed page's recovery would.
    const driver = new ChromiumDisplay({
      mode: 'spawn',
      headless: true,
      width: 1280,
      height: 720,
      logger: silent,
    });
    const h = await startDisplay(work, { bundles: [board], driver });
    const pageWs = async () => {
      const list = (await (await fetch(`http://127.0.0.1:${driver.devtoolsPort}/json/list`)).json()) as {
        type: string;
        webSocketDebuggerUrl: string;
      }[];
      return list.find((t) => t.type === 'page')?.webSocketDebuggerUrl as string;
    };
    try {
      await waitOnScreen(h, (n) => n.itemId === 'tb', 30_000);
      let since = 0;
      const shownAfter = () => since;
      for (let i = 0; i < 8; i++) {
        since = Date.now();
        await cdpCall(await pageWs(), 'Page.navigate', { url: 'about:blank' });
        await cdpCall(await pageWs(), 'Page.navigate', { url: h.display.url });
        // the new page is up: it beats (every 2 s) after it opened its stream
        await expect
          .poll(() => h.display.lane.heartbeats().last?.at ?? 0, { timeout: 30_000, interval: 50 })
          .toBeGreaterThan(shownAfter() + 2500);
        // the page on screen has its stream; none is left behind by the pages before it (a page
        // beats from its first second, and on a loaded machine may beat before its stream is open,
        // so wait for the stream; a stream left behind would keep the count above one)
        await expect.poll(() => h.display.lane.streams(), { timeout: 30_000, interval: 50 }).toBe(1);
      }
      const em = await signedBundle(work, {
        id: 'khan-cap',
        channel: 'emergency',
        items: [
          {
            id: 'lu',
            kind: 'text',
            priority: 'emergency',
            title: 'Cảnh báo lũ quét',
            text: 'Di chuyển ngay đến nơi an toàn.',
            durationMs: 30_000,
          },
        ],
        schedule: [{ id: 'now', items: ['lu'], rule: { type: 'immediate' } }],
      });
      h.display.setBundles([board, em]);
      await waitOnScreen(h, (n) => n.kind === 'emergency', 10_000);
      expect(h.display.lane.streams()).toBe(1);
    } finally {
      await h.stop();
    }
  }, 120_000);
});
