/**
 * A noticeboard's screenshot, end to end on the demo province: the real agent (simulated GPIO,
 * its screen a headless Debian Chromium on the kiosk page) enrolled on a real fleet server shows
 * the demo's published bulletin; the operator sends a signed `screenshot` command through the
 * API; the agent captures the screen over DevTools and uploads it; the server keeps it for the
 * device and the device page shows it with the time it was taken. Bad uploads (not a picture,
 * too large, from a loudspeaker station, mislabelled) are refused with their codes and the
 * stored picture stays. Artifacts in tests/artifacts/display/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishProgramme } from '../../scripts/src/demo/seed.js';
import { apiAsUser } from '../../scripts/src/sim/provision.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'display');
let p: DemoProvince;

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({
    devices: [
      {
        unit: '08/02500',
        kind: 'noticeboard',
        index: 1,
        display: {
          port: 0,
          unitName: 'UBND thị trấn Sơn Dương',
          browser: { driver: 'chromium', headless: true, width: 1280, height: 720 },
        },
      },
      { unit: '08/02500', kind: 'station', index: 1 },
    ],
    healthIntervalS: 5,
  });
  await publishProgramme(p.server, p.state);
}, 240_000);

afterAll(async () => {
  await p?.close();
});

function basic(board: DemoProvince['devices'][number]): string {
  const c = board.runtime?.enrolment.credentials();
  if (!c) throw new Error('not enrolled');
  return `Basic ${Buffer.from(`${c.mqtt.username}:${c.mqtt.password}`).toString('base64')}`;
}

describe('noticeboard screenshots', () => {
  it('a signed command makes the board upload its screen, which the device page shows', async () => {
    const board = p.devices[0];
    const display = board?.runtime?.display;
    if (!board?.deviceId || !display) throw new Error('the board has no screen');
    const id = board.deviceId;
    // the demo's bulletin reaches the screen
    await expect
      .poll(async () => (await fetch(display.url.replace('/kiosk/', '/kiosk/now'))).json(), {
        timeout: 60_000,
        interval: 250,
      })
      .toMatchObject({ itemId: 'lich-tiem', kind: 'text' });

    const operator = await apiAsUser(p.server, 'vanhanh', 1);
    expect(await operator.get(`/devices/${id}/screenshots`)).toEqual({ screenshots: [] });
    const { command } = await operator.post<{ command: { id: string; signatures: unknown[] } }>(
      `/devices/${id}/commands`,
      { action: 'screenshot' },
    );
    expect(command.signatures).toHaveLength(1);
    await expect
      .poll(
        async () =>
          (await operator.get<{ results: { ok: boolean; code?: string }[] }>(`/commands/${command.id}`))
            .results,
        { timeout: 30_000, interval: 250 },
      )
      .toEqual([expect.objectContaining({ deviceId: id, ok: true })]);
    const { screenshots } = await operator.get<{
      screenshots: { id: string; mediaType: string; commandId?: string; takenAt: string; size: number }[];
    }>(`/devices/${id}/screenshots`);
    expect(screenshots).toHaveLength(1);
    const shot = screenshots[0] as (typeof screenshots)[number];
    expect(shot).toMatchObject({ mediaType: 'image/jpeg', commandId: command.id });
    const img = await fetch(`${p.server.url}/api/v1/devices/${id}/screenshots/latest`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await img.arrayBuffer());
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(bytes.length).toBe(shot.size);
    await writeFile(join(ART, 'screenshot-command-board.jpg'), bytes);

    // the device page shows it, with when it was taken
    const page = await p.chrome.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await login(page, p.server.url, 'vanhanh', p.password('vanhanh'));
      await page.goto(`${p.server.url}/ui/devices/${encodeURIComponent(id)}`);
      const figure = page.locator(`figure[data-screenshot="${shot.id}"]`);
      await expect.poll(() => figure.count()).toBe(1);
      const natural = await figure.locator('img').evaluate((el) => {
        const img = el as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth;
      });
      expect(natural).toBe(1280);
      expect(await figure.locator('figcaption').textContent()).toMatch(/^Chụp lúc \d{2}\/\d{2}\/\d{4}/);
      await figure.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ART, 'device-page-screenshot.png'), fullPage: true });

      // a second capture from the page's own button replaces it live, without a reload
      await Promise.all([
        page.waitForURL(/ok=device\.cmd\.sent/),
        page.click('#screen button[value=screenshot]'),
      ]);
      expect(await page.locator('.flash').textContent()).toContain('Chụp màn hình');
      await expect
        .poll(
          async () =>
            (await operator.get<{ screenshots: unknown[] }>(`/devices/${id}/screenshots`)).screenshots.length,
          {
            timeout: 30_000,
          },
        )
        .toBe(2);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('refuses pictures that are not, too large, mislabelled or from a station, and keeps what it has', async () => {
    const [board, station] = p.devices;
    if (!board?.deviceId || !station?.deviceId) throw new Error('devices missing');
    const operator = await apiAsUser(p.server, 'vanhanh', 1);
    const before = (
      await operator.get<{ screenshots: { id: string }[] }>(`/devices/${board.deviceId}/screenshots`)
    ).screenshots;
    expect(before.length).toBeGreaterThan(0);
    const jpeg = await (
      await fetch(`${p.server.url}/api/v1/devices/${board.deviceId}/screenshots/latest`, {
        headers: { authorization: `Bearer ${operator.token}` },
      })
    ).arrayBuffer();
    const upload = async (who: typeof board, body: Uint8Array, type: string) => {
      const res = await fetch(`${p.server.url}/api/v1/ingest/screenshot`, {
        method: 'POST',
        headers: { authorization: basic(who), 'content-type': type },
        body,
      });
      const j = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: j.error?.code };
    };
    expect(await upload(board, Buffer.from('<html>không phải ảnh</html>'), 'image/png')).toEqual({
      status: 415,
      code: 'SCREENSHOT_NOT_IMAGE',
    });
    expect(await upload(board, new Uint8Array(jpeg), 'image/png')).toEqual({
      status: 415,
      code: 'SCREENSHOT_TYPE_MISMATCH',
    });
    const huge = Buffer.concat([Buffer.from(jpeg), Buffer.alloc(5 * 1024 * 1024)]);
    expect((await upload(board, huge, 'image/jpeg')).status).toBe(413);
    expect(await upload(station, new Uint8Array(jpeg), 'image/jpeg')).toEqual({
      status: 409,
      code: 'DEVICE_KIND_CONFLICT',
    });
    const anonymous = await fetch(`${p.server.url}/api/v1/ingest/screenshot`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(jpeg),
    });
    expect(anonymous.status).toBe(401);
    const after = (
      await operator.get<{ screenshots: { id: string }[] }>(`/devices/${board.deviceId}/screenshots`)
    ).screenshots;
    expect(after).toEqual(before);
    // a station has no screen: the command is refused by the agent with its code
    const { command } = await operator.post<{ command: { id: string } }>(
      `/devices/${station.deviceId}/commands`,
      { action: 'screenshot' },
    );
    await expect
      .poll(
        async () =>
          (await operator.get<{ results: { ok: boolean; code?: string }[] }>(`/commands/${command.id}`))
            .results,
        { timeout: 30_000, interval: 250 },
      )
      .toEqual([expect.objectContaining({ ok: false, code: 'DISPLAY_NOT_PRESENT' })]);
  }, 120_000);
});
