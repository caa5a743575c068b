/**
 * The dashboard's station-updates page in real headless Chromium, over a real server (hono +
 * aedes on 127.0.0.1) with the releases plugin: a release signed offline under the release role
 * is listed with its signer's name; the administrator starts the canary stage and the unit stage
 * from the page; stations report over MQTT (one ready, one rolled back); the page shows the
 * rollout halted by the station (by name, with the reason), the fleet's versions per unit, and a
 * second release halted by hand with a reason. A technician sees the same page without actions.
 * Screenshots at 1280 and 390 px go to tests/artifacts/releases/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deviceTopic, generateKeyPair, type Health, rawPublicKey } from '@loa/protocol';
import type { MqttClient } from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { releasesPlugin } from '../../../fleet-server/src/plugins/releases.js';
import { hashSecret } from '../../../fleet-server/src/security/secrets.js';
import { DEMO_UNITS_FILE, seedUnitsFromFile } from '../../../fleet-server/src/seed.js';
import { cleanupTempDirs, tempDir } from '../../agent/services/helpers.js';
import { buildRelease, makeReleaseTree } from '../../agent/services/release-fixtures.js';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'releases');
const PASSWORD = 'mat-khau-dung-1';
const pub = (k: { publicKey: Parameters<typeof rawPublicKey>[0] }) =>
  rawPublicKey(k.publicKey).toString('base64');

function health(agentVersion: string): Health {
  return {
    at: new Date().toISOString(),
    seq: 1,
    agentVersion,
    uptimeS: 10,
    inputs: { mains: true, door: 'closed', ampFault: false },
    relays: { amplifier: false },
    onAir: null,
    bundles: [],
    clock: { trusted: true, source: 'ntp' },
  };
}

describe('station updates page', () => {
  let h: Harness;
  let admin: TestUser;
  let tech: TestUser;
  let browser: Browser;
  const release = generateKeyPair();
  const clients = new Map<string, MqttClient>();

  async function login(page: Page, username: string): Promise<void> {
    await page.goto(`${h.server.url}/ui/login`);
    await page.fill('#f-username', username);
    await page.fill('#f-password', PASSWORD);
    await Promise.all([page.waitForURL(/\/ui\/$/), page.click('button[type=submit]')]);
  }

  const status = (id: string, rel: string, version: number, state: string, reason?: string) =>
    (clients.get(id) as MqttClient).publishAsync(
      deviceTopic(id, 'status'),
      JSON.stringify({
        bundleId: rel,
        channel: 'agent',
        version,
        state,
        ...(reason ? { reason, message: 'READY_DEADLINE: 0.2.0 → 0.1.0' } : {}),
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );

  beforeAll(async () => {
    mkdirSync(ART, { recursive: true });
    h = await startHarness({
      plugins: (c) => [releasesPlugin({ content: c }), dashboardPlugin({ content: c })],
    });
    await seedUnitsFromFile(h.server.deps.store, DEMO_UNITS_FILE, new Date().toISOString());
    admin = await h.user('quantri', 'administrator', ['08']);
    tech = await h.user('kythuat', 'technician', ['08']);
    const hash = await hashSecret(PASSWORD, { N: 1024, r: 8, p: 1 });
    for (const [u, name] of [
      [admin, 'Nguyễn Văn Quản'],
      [tech, 'Trần Thị Kỹ'],
    ] as const)
      await h.server.deps.store.users.update(u.id, { passwordHash: hash, displayName: name });
    await h.installTrust([
      { pub: pub(release), roles: ['release'], scope: ['08'], name: 'Sở KH&CN Tuyên Quang (khoá phát hành)' },
    ]);
    for (const [id, unit] of [
      ['a1', '08/02500'],
      ['a2', '08/02500'],
      ['a3', '08/02500'],
      ['b1', '08/02503'],
    ] as const) {
      const d = await h.device(id, unit);
      const c = await h.connect(d, [deviceTopic(id, 'release')]);
      clients.set(id, c);
      await c.publishAsync(deviceTopic(id, 'health'), JSON.stringify(health('0.1.0')), { qos: 1 });
    }
    const work = await tempDir('loa-rel-page-');
    for (const [v, agentVersion] of [
      [2, '0.2.0'],
      [3, '0.3.0-rc.1'],
    ] as const) {
      const tree = join(work, `tree-${v}`);
      await makeReleaseTree(tree, agentVersion, 'good', 2);
      const built = await buildRelease(work, tree, { version: v, agentVersion, signer: release.privateKey });
      const { readFile } = await import('node:fs/promises');
      const up = await h.api(
        admin,
        'POST',
        '/api/v1/releases/artifact',
        new Uint8Array(await readFile(built.artifact)),
      );
      expect(up.status).toBe(201);
      expect((await h.api(admin, 'POST', '/api/v1/releases', built.release)).status).toBe(201);
    }
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of clients.values()) await c.endAsync().catch(() => undefined);
    await h?.stop();
    await cleanupTempDirs();
  });

  it('lists releases by name, stages canary → unit from the page, shows a halt by a station and by hand', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
    page.on('dialog', (d) => void d.accept());
    await login(page, 'quantri');
    await page.goto(`${h.server.url}/ui/releases`);
    const card = page.locator('[data-release="agent-0.2.0"]');
    expect(await card.locator('h3').textContent()).toContain('Phiên bản 0.2.0');
    expect(await card.locator('[data-signers]').textContent()).toBe('Sở KH&CN Tuyên Quang (khoá phát hành)');
    expect(await card.textContent()).toContain('Nguyễn Văn Quản');
    expect(await card.textContent()).toContain('Chưa triển khai.');

    // canary: one station
    await card.locator('[data-stage-form=canary] input[name=count]').fill('1');
    await Promise.all([
      page.waitForURL(/ok=rel\.staged/),
      card.locator('[data-stage-form=canary] button').click(),
    ]);
    expect(await page.locator('.flash').textContent()).toContain('Đã gửi bước triển khai.');
    expect(await card.locator('[data-stage=canary]').textContent()).toContain('1 trạm');
    expect(await card.locator('[data-waiting]').textContent()).toContain('Cụm loa a1');
    // the unit stage waits for the canary to be ready: refused in Vietnamese
    await card.locator('[data-stage-form=unit] select').selectOption('08/02500');
    await card.locator('[data-stage-form=unit] button').click();
    expect(await page.locator('main').textContent()).toContain('chưa chạy phiên bản mới');

    // a1 runs the new version and says so
    await status('a1', 'agent-0.2.0', 2, 'playing');
    await (clients.get('a1') as MqttClient).publishAsync(
      deviceTopic('a1', 'health'),
      JSON.stringify(health('0.2.0')),
      {
        qos: 1,
      },
    );
    await expect
      .poll(
        async () => {
          await page.goto(`${h.server.url}/ui/releases`);
          return card.locator('[data-counts]').textContent();
        },
        { timeout: 30_000 },
      )
      .toContain('sẵn sàng 1');
    expect(await card.locator('[data-stage-form=unit] option').allTextContents()).toContain(
      'Thị trấn Sơn Dương',
    );
    await card.locator('[data-stage-form=unit] select').selectOption('08/02500');
    await Promise.all([
      page.waitForURL(/ok=rel\.staged/),
      card.locator('[data-stage-form=unit] button').click(),
    ]);
    expect(await card.locator('[data-stage=unit]').textContent()).toContain('Thị trấn Sơn Dương: 3 trạm');

    // a3 goes back to the old version: the rollout halts, by the station's name
    await status('a2', 'agent-0.2.0', 2, 'downloading');
    await status('a3', 'agent-0.2.0', 2, 'failed', 'UPDATE_ROLLED_BACK');
    await expect
      .poll(
        async () => {
          await page.goto(`${h.server.url}/ui/releases`);
          return (await card.locator('[data-halted]').count()) > 0;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    // the station's reason in words, not its code
    expect(await card.locator('[data-halted]').textContent()).toContain(
      'Trạm Cụm loa a3: Bản cập nhật phần mềm lỗi nên trạm đã quay lại bản cũ.',
    );
    expect(await card.locator('[data-failed]').textContent()).toContain('Cụm loa a3');
    expect(await card.locator('[data-failed]').textContent()).toContain('quay lại bản cũ');
    expect(await card.locator('[data-failed]').textContent()).toContain('Thị trấn Sơn Dương');
    expect(await card.locator('[data-stage-form]').count()).toBe(0);

    // the fleet's versions per unit, by name
    const versions = await page.locator('#unit-versions').textContent();
    expect(await page.locator('#unit-versions thead').textContent()).toContain('0.2.0');
    expect(versions).toContain('Thị trấn Sơn Dương');
    expect(versions).toContain('Xã Tân Trào');
    const row = await page
      .locator('#unit-versions tbody tr', { hasText: 'Thị trấn Sơn Dương' })
      .allTextContents();
    expect(row[0]).toBe('Thị trấn Sơn Dương123'); // 0.2.0: 1, 0.1.0: 2, total 3

    // the second release: canary, then halted by hand with a reason
    const second = page.locator('[data-release="agent-0.3.0-rc.1"]');
    await Promise.all([
      page.waitForURL(/ok=rel\.staged/),
      second.locator('[data-stage-form=canary] button').click(),
    ]);
    await second.locator('input[name=reason]').fill('Loa rè ở trạm thử, dừng để kiểm tra');
    await Promise.all([page.waitForURL(/ok=rel\.haltedOk/), second.locator('button.danger').click()]);
    expect(await second.locator('[data-halted]').textContent()).toContain('Nguyễn Văn Quản dừng lúc');
    expect(await second.locator('[data-halted]').textContent()).toContain(
      'Loa rè ở trạm thử, dừng để kiểm tra',
    );
    await page.screenshot({ path: join(ART, 'releases-1280.png'), fullPage: true });
  }, 120_000);

  it('a technician sees the page without actions, on a phone', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    await login(page, 'kythuat');
    await page.goto(`${h.server.url}/ui/releases`);
    expect(await page.locator('[data-stage-form]').count()).toBe(0);
    expect(await page.locator('button.danger').count()).toBe(0);
    expect(await page.locator('[data-release="agent-0.2.0"] [data-halted]').textContent()).toContain(
      'Cụm loa a3',
    );
    // the page is in the menu; starting a stage by hand-made request is refused
    expect(await page.locator('nav a[href="/ui/releases"]').count()).toBe(1);
    await page.screenshot({ path: join(ART, 'releases-390.png'), fullPage: true });
    const r = await h.api<{ error: { code: string } }>(tech, 'POST', '/api/v1/releases/agent-0.2.0/halt', {
      reason: 'thử quyền',
    });
    expect(r.status).toBe(403);
  }, 60_000);
});
