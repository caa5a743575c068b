/**
 * The dashboard in a real headless Chromium, as the page tests use it: one browser per suite, a
 * page logged in as a user at a screen width, and the axe-core audit of a page.
 */
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PASSWORD } from '../app/harness.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A new page (Vietnamese locale, `width` × 900) logged in to the dashboard at `base` as `username`. */
export async function loggedInPage(
  chrome: Browser,
  base: string,
  username: string,
  width: number,
  opts: { acceptDownloads?: boolean } = {},
): Promise<Page> {
  const page = await chrome.newPage({ viewport: { width, height: 900 }, locale: 'vi-VN', ...opts });
  await page.goto(`${base}/ui/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', PASSWORD);
  await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
  return page;
}

/** Serious or critical accessibility violations on the page (axe-core), by rule and element. */
export async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate<{ id: string; impact: string | null; nodes: { target: string[] }[] }[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((x) => x.violations)",
  );
  return r
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
