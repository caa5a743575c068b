/**
 * Withdrawing a published programme from the dashboard, in headless Chromium against the demo's
 * province (a real agent over simulated hardware): the approver asks with a reason and confirms,
 * the policy's two-person rule for content makes the editor co-sign, then the station drops the
 * programme and the row says "Đã gỡ trên 1/1 trạm". The operator on duty, who may send
 * emergencies but not publish programmes, sees no button.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MORNING } from '../../scripts/src/demo/bulletins.js';
import { apiAsUser } from '../../scripts/src/sim/provision.js';
import { type DemoProvince, login, startDemoProvince } from './helpers/demo-province.js';

const ART = join(process.cwd(), 'tests', 'artifacts', 'dashboard');
const UNIT = '08/02500';
let p: DemoProvince;

beforeAll(async () => {
  await mkdir(ART, { recursive: true });
  p = await startDemoProvince({ devices: [{ unit: UNIT, kind: 'station', index: 1 }], healthIntervalS: 5 });
}, 180_000);

afterAll(async () => {
  await p?.close();
});

async function pageAs(username: string): Promise<Page> {
  const ctx = await p.chrome.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
  });
  const page = await ctx.newPage();
  page.on('dialog', (d) => void d.accept());
  await login(page, p.server.url, username, p.password(username));
  await page.goto(`${p.server.url}/ui/programmes`);
  return page;
}

describe('withdrawing a programme from the dashboard', () => {
  it('asks, confirms, needs a second signature, and shows the stations that dropped it', async () => {
    const station = p.devices[0];
    const at = new Date(Date.now() + 3_600_000);
    const id = await p.publish({
      channel: 'go-chuong-trinh',
      description: 'Bản tin sẽ được gỡ',
      targets: [{ unit: UNIT }],
      items: [{ content: p.state.content[MORNING.id], id: MORNING.id, title: MORNING.title }],
      schedule: [{ id: 'loa', items: [MORNING.id], rule: { type: 'once', at: at.toISOString() } }],
    });
    await expect
      .poll(() => station?.runtime?.bundles.active().some((b) => b.id === id), { timeout: 60_000 })
      .toBe(true);

    const operator = await pageAs('vanhanh');
    expect(await operator.locator(`[data-recall-button="${id}"]`).count()).toBe(0);

    const approver = await pageAs('pheduyet');
    const form = approver.locator(`form:has([data-recall-button="${id}"])`);
    await expect.poll(() => form.locator('button').textContent()).toBe('Gỡ chương trình');
    await form.locator('input[name=reason]').fill('Nội dung đã cũ, gỡ khỏi các trạm');
    await Promise.all([approver.waitForURL(/ok=recall\.pendingOk/), form.locator('button').click()]);
    await expect.poll(() => approver.locator('.flash').textContent()).toContain('cần thêm một người ký');
    // the approver signed: the second signature must come from someone else
    expect(await approver.locator(`[data-recall-button="${id}"]`).count()).toBe(0);
    await expect
      .poll(() => approver.locator(`[data-recall-pending="${id}"]`).textContent())
      .toContain('1 chữ ký');
    await approver.screenshot({ path: join(ART, '40-recall-pending.png'), fullPage: true });
    // one signature of two: the station still holds it
    expect(station?.runtime?.bundles.active().some((b) => b.id === id)).toBe(true);

    const editor = await pageAs('bientap');
    const cosign = editor.locator(`[data-recall-button="${id}"]`);
    await expect.poll(() => cosign.textContent()).toBe('Ký lệnh gỡ (người thứ hai)');
    await Promise.all([editor.waitForURL(/ok=recall\.ok/), cosign.click()]);

    await expect
      .poll(() => station?.runtime?.bundles.active().some((b) => b.id === id), { timeout: 30_000 })
      .toBe(false);
    await expect
      .poll(
        async () => {
          await editor.goto(`${p.server.url}/ui/programmes`);
          return editor.locator(`[data-recall="${id}"]`).textContent();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('Đã gỡ trên 1/1 trạm');
    await editor.screenshot({ path: join(ART, '41-recall-done.png'), fullPage: true });
  }, 240_000);

  it('drops a pending withdrawal: its author may, an editor may not, and the station keeps the programme', async () => {
    const station = p.devices[0];
    const at = new Date(Date.now() + 3_600_000);
    const id = await p.publish({
      channel: 'giu-chuong-trinh',
      description: 'Bản tin được giữ lại',
      targets: [{ unit: UNIT }],
      items: [{ content: p.state.content[MORNING.id], id: MORNING.id, title: MORNING.title }],
      schedule: [{ id: 'loa', items: [MORNING.id], rule: { type: 'once', at: at.toISOString() } }],
    });
    await expect
      .poll(() => station?.runtime?.bundles.active().some((b) => b.id === id), { timeout: 60_000 })
      .toBe(true);
    const approver = await pageAs('pheduyet');
    const form = approver.locator(`form:has([data-recall-button="${id}"])`);
    await form.locator('input[name=reason]').fill('Gỡ nhầm chương trình');
    await Promise.all([approver.waitForURL(/ok=recall\.pendingOk/), form.locator('button').click()]);
    // the editor may co-sign but not drop it; the API refuses an editor's drop
    const editor = await pageAs('bientap');
    await expect.poll(() => editor.locator(`[data-recall-button="${id}"]`).count()).toBe(1);
    expect(await editor.locator(`[data-recall-drop="${id}"]`).count()).toBe(0);
    const editorApi = await apiAsUser(p.server, 'bientap', 1);
    await expect(editorApi.call('delete', `/bundles/${id}/recall`)).rejects.toMatchObject({
      code: 'FORBIDDEN_ROLE',
    });
    // its author drops it
    const drop = approver.locator(`[data-recall-drop="${id}"]`);
    await expect.poll(() => drop.textContent()).toBe('Huỷ yêu cầu gỡ');
    await approver.screenshot({ path: join(ART, '43-recall-drop-offered.png'), fullPage: true });
    await Promise.all([approver.waitForURL(/ok=recall\.dropped/), drop.click()]);
    await expect.poll(() => approver.locator('.flash').textContent()).toContain('Đã huỷ yêu cầu gỡ');
    // the programme may be withdrawn afresh, and the station still holds it
    await expect
      .poll(() => approver.locator(`[data-recall-button="${id}"]`).textContent())
      .toBe('Gỡ chương trình');
    expect(await approver.locator(`[data-recall-pending="${id}"]`).count()).toBe(0);
    expect(station?.runtime?.bundles.active().some((b) => b.id === id)).toBe(true);
    expect((await p.server.deps.store.bundles.get(id))?.meta?.recall).toBeUndefined();
    const audit = await p.server.deps.store.audit.query({ limit: 10 });
    const entry = audit.find((a) => a.action === 'bundle.recall.drop' && a.target?.id === id);
    expect(entry?.details).toMatchObject({ recallReason: 'Gỡ nhầm chương trình', signatures: 1 });
    // nothing pending any more: a second drop is refused with a stable code
    const approverApi = await apiAsUser(p.server, 'pheduyet', 1);
    await expect(approverApi.call('delete', `/bundles/${id}/recall`)).rejects.toMatchObject({
      code: 'RECALL_CONFLICT',
    });
    await approver.screenshot({ path: join(ART, '44-recall-dropped.png'), fullPage: true });
  }, 240_000);

  it('cancels a sent emergency from its progress page ("Huỷ cảnh báo")', async () => {
    const station = p.devices[0];
    const api = await apiAsUser(p.server, 'vanhanh', 1);
    const sent = await api.post<{ bundle: { id: string } }>('/emergency', {
      unit: UNIT,
      title: 'Cảnh báo thử nghiệm',
      text: 'Cảnh báo khẩn cấp. Nước sông đang lên nhanh. Bà con không qua ngầm tràn, di chuyển đến nơi cao.',
      repeat: 5,
      gapSeconds: 0,
    });
    const id = sent.bundle.id;
    await expect
      .poll(() => station?.runtime?.player.status().onAir?.bundleId, { timeout: 60_000, interval: 100 })
      .toBe(id);
    // the editor may not cancel an emergency: no button on the progress page
    const editor = await pageAs('bientap');
    await editor.goto(`${p.server.url}/ui/emergency/${id}`);
    expect(await editor.locator(`[data-recall-button="${id}"]`).count()).toBe(0);

    const operator = await pageAs('vanhanh');
    await operator.goto(`${p.server.url}/ui/emergency/${id}`);
    const form = operator.locator(`form:has([data-recall-button="${id}"])`);
    await expect.poll(() => form.locator('button').textContent()).toBe('Huỷ cảnh báo');
    await form.locator('input[name=reason]').fill('Báo nhầm');
    await Promise.all([operator.waitForURL(/ok=recall\.ok/), form.locator('button').click()]);
    await expect
      .poll(() => station?.runtime?.player.status().onAir?.bundleId, { timeout: 10_000, interval: 50 })
      .not.toBe(id);
    await expect
      .poll(
        async () => {
          await operator.goto(`${p.server.url}/ui/emergency/${id}`);
          return operator.locator(`[data-recall="${id}"]`).textContent();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('Đã gỡ trên 1/1 trạm');
    // the progress says it was cancelled, not that it is still playing
    await expect
      .poll(() => operator.locator('[data-k="emg:summary"]').textContent(), { timeout: 10_000 })
      .toBe('Đã huỷ cảnh báo: 1/1 trạm đã dừng và gỡ');
    await operator.screenshot({ path: join(ART, '42-emergency-cancelled.png'), fullPage: true });
  }, 240_000);
});
