/**
 * Proof of display to the fleet server: a bulletin the kiosk page painted in Chromium becomes a
 * signed `display` proof in the station's journal, which the real fleet server ingests (device
 * credentials, signature and chain checks) and shows on the device's proof list.
 */
import type { Proof } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestDevice } from '../../fleet-server/publish/harness.js';
import { cleanupTempDirs, tempDir } from '../services/helpers.js';
import { launchChromium, openKiosk, signedBundle, startDisplay, waitOnScreen } from './harness.js';

let h: Harness;
let dev: TestDevice;

beforeAll(async () => {
  h = await startHarness();
  dev = await h.device('bang-tin-02500', '08/02500');
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await cleanupTempDirs();
});

describe('proof of display reaches the server', () => {
  it('rendered bulletin → signed display proof → journal → server ingest → device proofs', async () => {
    const work = await tempDir('loa-display-server-');
    const browser = await launchChromium();
    const board = await startDisplay(work, { deviceId: dev.id, deviceKey: dev.keys.privateKey });
    try {
      const page = await openKiosk(browser, board.display.url);
      await page.waitForFunction("document.getElementById('idle')?.hidden === false");
      const b = await signedBundle(work, {
        id: 'xa-02500-v3',
        channel: 'xa-02500',
        items: [
          { id: 'lich-tiem', kind: 'text', title: 'Lịch tiêm chủng', text: 'Trạm y tế xã, sáng thứ Hai.' },
        ],
        schedule: [{ id: 'sang', items: ['lich-tiem'], rule: { type: 'immediate' } }],
      });
      board.display.setBundles([b]);
      await waitOnScreen(board, (n) => n.itemId === 'lich-tiem');
      await board.display.lane.record.flush();
      const proofs = await board.journal.pending(100);
      expect(proofs.map((p) => [p.kind, p.outcome, p.itemId])).toEqual([['display', 'started', 'lich-tiem']]);
      const r = await h.api<{ results: { verdict: string }[]; ackUpToSeq: number }>(
        null,
        'POST',
        '/api/v1/ingest/proofs',
        { proofs },
        { authorization: dev.basic },
      );
      expect(r.status).toBe(200);
      expect(r.body.results.map((x) => x.verdict)).toEqual(['accept']);
      await board.journal.ack(r.body.ackUpToSeq);
      expect(board.journal.backlog).toBe(0);
      const viewer = await h.user('xem.bang-tin', 'viewer', ['08/02500']);
      const stored = await h.api<{ proof: Proof }[]>(viewer, 'GET', `/api/v1/devices/${dev.id}/proofs`);
      expect(stored.status).toBe(200);
      expect(stored.body.map((x) => x.proof)).toEqual([
        expect.objectContaining({
          kind: 'display',
          outcome: 'started',
          bundleId: 'xa-02500-v3',
          itemId: 'lich-tiem',
        }),
      ]);
    } finally {
      await browser.close();
      await board.stop();
    }
  }, 90_000);
});
