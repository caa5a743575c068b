/** BCM → sysfs mapping on directory trees shaped like real boards, and the real driver here. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoaError } from '@loa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bcmToSysfs,
  loadPinMap,
  readGpioChips,
  selectHeaderChip,
} from '../../../agent/src/drivers/gpio/chip-map.js';
import { OnoffGpio } from '../../../agent/src/drivers/gpio/onoff.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

type Chip = [base: number, ngpio: number, label: string];

async function sysfs(chips: Chip[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'loa-sysfs-'));
  dirs.push(root);
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  for (const [base, ngpio, label] of chips) {
    const dir = join(root, `gpiochip${base}`);
    await mkdir(dir);
    await writeFile(join(dir, 'base'), `${base}\n`);
    await writeFile(join(dir, 'ngpio'), `${ngpio}\n`);
    await writeFile(join(dir, 'label'), `${label}\n`);
  }
  return root;
}

// As reported by Raspberry Pi OS Bookworm (kernel 6.6+) and Bullseye (5.15).
const PI4_66: Chip[] = [
  [512, 58, 'pinctrl-bcm2711'],
  [570, 8, 'raspberrypi-exp-gpio'],
];
const PI5_66: Chip[] = [
  [512, 32, 'gpio-brcmstb@107d508500'],
  [544, 4, 'gpio-brcmstb@107d508520'],
  [548, 17, 'gpio-brcmstb@107d517c00'],
  [565, 6, 'gpio-brcmstb@107d517c20'],
  [571, 54, 'pinctrl-rp1'],
];
const PI3_515: Chip[] = [
  [0, 54, 'pinctrl-bcm2835'],
  [504, 8, 'raspberrypi-exp-gpio'],
];

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isLoaError(err) ? err.code : 'not-a-LoaError';
  }
  return 'resolved';
}

describe('gpiochip base mapping', () => {
  it('Pi 4 on kernel 6.6+: BCM 17 → 529', async () => {
    const map = await loadPinMap(await sysfs(PI4_66));
    expect(map.chip.label).toBe('pinctrl-bcm2711');
    expect(map.map(17)).toBe(529);
    expect(map.map(0)).toBe(512);
  });

  it('Pi 5 on kernel 6.6+: the header is on RP1, BCM 17 → 588', async () => {
    const map = await loadPinMap(await sysfs(PI5_66));
    expect(map.chip).toEqual({ name: 'gpiochip571', base: 571, ngpio: 54, label: 'pinctrl-rp1' });
    expect(map.map(17)).toBe(588);
    expect(map.map(27)).toBe(598);
  });

  it('older kernels: base 0, BCM numbers unchanged', async () => {
    const map = await loadPinMap(await sysfs(PI3_515));
    expect(map.map(17)).toBe(17);
  });

  it('an unknown board with a single chip is taken as is', async () => {
    const chips = await readGpioChips(await sysfs([[100, 32, 'some-soc-gpio']]));
    expect(bcmToSysfs(selectHeaderChip(chips), 4)).toBe(104);
  });

  it('GPIO_UNAVAILABLE when the sysfs root is absent or has no header chip', async () => {
    expect(await code(loadPinMap('/nonexistent/sys/class/gpio'))).toBe('GPIO_UNAVAILABLE');
    const root = await sysfs([
      [0, 8, 'foo'],
      [8, 8, 'bar'],
    ]);
    expect(await code(loadPinMap(root))).toBe('GPIO_UNAVAILABLE');
    expect(await code(loadPinMap(await sysfs([])))).toBe('GPIO_UNAVAILABLE');
  });

  it('GPIO_PIN_INVALID outside the header or the chip', async () => {
    const map = await loadPinMap(await sysfs(PI4_66));
    for (const pin of [28, 40, -1, 1.5, Number.NaN]) {
      expect(await code(Promise.resolve().then(() => map.map(pin)))).toBe('GPIO_PIN_INVALID');
    }
    const small = await loadPinMap(await sysfs([[0, 20, 'pinctrl-bcm2835']]));
    expect(await code(Promise.resolve().then(() => small.map(21)))).toBe('GPIO_PIN_INVALID');
  });

  it('skips chip directories with unreadable attributes', async () => {
    const root = await sysfs(PI4_66);
    await mkdir(join(root, 'gpiochip999'));
    const chips = await readGpioChips(root);
    expect(chips.map((c) => c.name)).toEqual(['gpiochip512', 'gpiochip570']);
  });
});

describe('OnoffGpio on a machine without /sys/class/gpio', () => {
  it('fails with GPIO_UNAVAILABLE (and GPIO_PIN_INVALID before touching hardware)', async () => {
    const gpio = new OnoffGpio({ logger: pino({ level: 'silent' }) });
    expect(await code(gpio.output({ name: 'x', pin: 99 }))).toBe('GPIO_PIN_INVALID');
    const { Gpio } = await import('onoff');
    if (!Gpio.accessible) {
      expect(await code(gpio.output({ name: 'amplifier', pin: 17 }))).toBe('GPIO_UNAVAILABLE');
      expect(await code(gpio.input({ name: 'door', pin: 27 }))).toBe('GPIO_UNAVAILABLE');
    }
    await gpio.close();
  });
});
