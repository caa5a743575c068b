import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../agent/src/config.js';
import { cleanupTempDirs, repoRoot, tempDir } from './services/helpers.js';

afterEach(cleanupTempDirs);

const minimal = {
  device: { dataDir: 'data' },
  trust: { rootKeys: ['root.pub.pem'] },
  hardware: { amplifier: { pin: 17 } },
};

describe('agent config', () => {
  it('accepts a minimal config, fills defaults and resolves paths against the file', () => {
    const c = parseConfig(minimal, '/etc/loa');
    expect(c.device.dataDir).toBe('/etc/loa/data');
    expect(c.trust.rootKeys).toEqual(['/etc/loa/root.pub.pem']);
    expect(c.hardware.amplifier).toEqual({ pin: 17, activeLow: false, warmupMs: 2000, idleTailMs: 10000 });
    expect(c.hardware.gpio.driver).toBe('sim');
    expect(c.audio.output.type).toBe('null');
    expect(c.station.utcOffset).toBe('+07:00');
    expect(c.technician.enabled).toBe(false);
  });

  it('validates the documented example config', async () => {
    const c = await loadConfig(join(repoRoot, 'agent/config.example.json'));
    expect(c.device.unit).toBe('08/02500');
    expect(Object.keys(c.hardware.zones)).toEqual(['cho', 'truong-hoc']);
    expect(c.hardware.modem.driver).toBe('sim');
  });

  it('lists every bad path in Vietnamese', () => {
    const bad = {
      device: { dataDir: '', unit: '8/2500', extra: 1 },
      trust: { rootKeys: [] },
      hardware: {
        amplifier: { pin: 40 },
        zones: { cho: { pin: 2.5 } },
        gpio: { driver: 'fake' },
      },
      station: { quietHours: [{ start: '25:00', end: '05:00' }], volume: 120 },
      audio: { driver: 'real', output: { type: 'pulse' } },
    };
    let err: unknown;
    try {
      parseConfig(bad, '/x');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    const errors = (err as { details: { errors: string[] } }).details.errors;
    const text = errors.join('\n');
    expect(text).toContain('hardware.amplifier.pin: phải là số nguyên 0–27');
    expect(text).toContain('hardware.zones.cho.pin: phải là số nguyên 0–27');
    expect(text).toContain('hardware.gpio.driver: phải là "real"');
    expect(text).toContain('device.dataDir: không được để trống');
    expect(text).toContain('device.unit: phải là mã đơn vị');
    expect(text).toContain('device.extra: khoá không được hỗ trợ');
    expect(text).toContain('trust.rootKeys: cần ít nhất một khoá gốc');
    expect(text).toContain('station.quietHours.0.start: phải là giờ dạng HH:MM');
    expect(text).toContain('station.volume: phải là số nguyên 0–100');
    expect(text).toContain('audio.output');
    expect(errors.length).toBeGreaterThanOrEqual(10);
  });

  it('reports unreadable and non-JSON files with stable codes', async () => {
    const dir = await tempDir();
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
    await writeFile(join(dir, 'bad.json'), '{ "device": ');
    await expect(loadConfig(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
