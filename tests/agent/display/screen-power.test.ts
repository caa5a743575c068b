/**
 * Screen power with the real tools Debian ships: cec-client (cec-utils) and wlr-randr. This
 * machine has no HDMI-CEC adapter and no Wayland compositor, so what is exercised is detection
 * and the failure path: each switch fails with SCREEN_POWER_FAILED, the state stays unknown, and
 * the display service reports the control and the alert in health. A real TV over CEC and cage's
 * output switching are not exercised here (agent/docs/noticeboard.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectScreenPower } from '../../../agent/src/drivers/display/screen-power.js';
import { startDisplay } from './harness.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loa-screen-power-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('screen power', () => {
  it('prefers HDMI-CEC, then wlr-randr, then none, by what is installed', async () => {
    expect((await detectScreenPower('auto')).control).toBe('cec');
    expect((await detectScreenPower('wlr-randr')).control).toBe('wlr-randr');
    expect((await detectScreenPower('none')).control).toBe('none');
    // a board without either tool
    expect((await detectScreenPower('auto', { path: work })).control).toBe('none');
  });

  it('cec-client without an adapter and wlr-randr without a compositor fail with SCREEN_POWER_FAILED', async () => {
    const cec = await detectScreenPower('cec');
    await expect(cec.set(true)).rejects.toMatchObject({ code: 'SCREEN_POWER_FAILED' });
    expect(cec.state()).toBe('unknown');
    const wlr = await detectScreenPower('wlr-randr', {
      output: 'HDMI-A-1',
      env: { PATH: process.env.PATH ?? '' },
    });
    await expect(wlr.set(false)).rejects.toMatchObject({ code: 'SCREEN_POWER_FAILED' });
    expect(wlr.state()).toBe('unknown');
  }, 60_000);

  it('the display service reports the control and the failed switch in health', async () => {
    const h = await startDisplay(work, {
      power: await detectScreenPower('cec'),
      config: { screen: { power: 'cec', hours: { on: '00:00', off: '23:59' } } },
    });
    try {
      await expect
        .poll(() => h.alerts.map((a) => a.code), { timeout: 30_000, interval: 100 })
        .toContain('SCREEN_POWER_FAILED');
      expect(h.display.health()).toMatchObject({ powerControl: 'cec', screen: 'unknown' });
    } finally {
      await h.stop();
    }
  }, 60_000);

  it('a control that keeps failing is said once, in words without a stack, and not retried every minute', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    );
    const cec = await detectScreenPower('cec');
    let tries = 0;
    // the real cec-client control, counted
    const power = {
      control: cec.control,
      state: () => cec.state(),
      set: (on: boolean) => {
        tries++;
        return cec.set(on);
      },
    };
    const h = await startDisplay(work, {
      power,
      logger,
      config: { screen: { power: 'cec', hours: { on: '00:00', off: '23:59' } } },
    });
    try {
      await expect.poll(() => h.alerts.length, { timeout: 30_000, interval: 100 }).toBe(1);
      const warned = lines.filter((l) => l.level === 40);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ control: 'cec', reason: expect.stringContaining('cec-client') });
      expect(String(warned[0]?.msg)).toContain('screen power unavailable');
      expect(JSON.stringify(warned[0])).not.toContain('stack');
      expect(tries).toBe(1);
    } finally {
      await h.stop();
    }
  }, 60_000);
});
