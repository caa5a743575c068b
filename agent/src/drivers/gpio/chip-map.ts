/**
 * BCM pin number → sysfs GPIO number. On kernels 6.6+ the sysfs numbers of the SoC's
 * pin controller start at the gpiochip's base (512 on a Pi 4, 571 reported on a Pi 5 whose
 * header is on the RP1 chip); on older kernels the base is 0. We read
 * <sysfsRoot>/gpiochip* /{base,label,ngpio} and pick the chip that drives the 40-pin header.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';

export interface GpioChipInfo {
  /** Directory name, e.g. 'gpiochip512'. */
  name: string;
  base: number;
  ngpio: number;
  label: string;
}

/** Labels of the header's pin controller, most specific first (rp1 before the Pi 5 SoC's). */
export const HEADER_CHIP_LABELS = [
  'pinctrl-rp1',
  'pinctrl-bcm2711',
  'pinctrl-bcm2835',
  'raspberrypi,rp1-gpio',
] as const;

/** BCM numbers on the 40-pin header. */
export const HEADER_PIN_MAX = 27;

export function validateBcmPin(pin: number): void {
  if (!Number.isInteger(pin) || pin < 0 || pin > HEADER_PIN_MAX) {
    throw new LoaError('GPIO_PIN_INVALID', `Chân GPIO ${pin} không hợp lệ (BCM 0–${HEADER_PIN_MAX})`, {
      details: { pin },
    });
  }
}

export async function readGpioChips(sysfsRoot: string): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(sysfsRoot);
  } catch (cause) {
    throw new LoaError('GPIO_UNAVAILABLE', `Không truy cập được GPIO qua ${sysfsRoot}`, {
      cause,
      details: { sysfsRoot },
    });
  }
  const chips: GpioChipInfo[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    const dir = join(sysfsRoot, name);
    try {
      const [base, ngpio, label] = await Promise.all(
        ['base', 'ngpio', 'label'].map(async (f) => (await readFile(join(dir, f), 'utf8')).trim()),
      );
      const b = Number(base);
      const n = Number(ngpio);
      if (!Number.isInteger(b) || !Number.isInteger(n)) continue;
      chips.push({ name, base: b, ngpio: n, label: label ?? '' });
    } catch {
      // A chip directory without readable attributes is not one we can use; skip it.
    }
  }
  return chips;
}

/** Picks the header's chip; an unknown board with a single chip is accepted as-is. */
export function selectHeaderChip(chips: readonly GpioChipInfo[]): GpioChipInfo {
  for (const label of HEADER_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  if (chips.length === 1 && chips[0]) return chips[0];
  throw new LoaError(
    'GPIO_UNAVAILABLE',
    'Không tìm thấy bộ điều khiển chân GPIO của Raspberry Pi (gpiochip với nhãn pinctrl-*)',
    { details: { chips: chips.map((c) => `${c.name}:${c.label}`) } },
  );
}

/** The sysfs number for a BCM pin on the given chip. */
export function bcmToSysfs(chip: GpioChipInfo, pin: number): number {
  validateBcmPin(pin);
  if (pin >= chip.ngpio) {
    throw new LoaError('GPIO_PIN_INVALID', `Chân GPIO ${pin} vượt quá số chân của ${chip.label}`, {
      details: { pin, chip: chip.name, ngpio: chip.ngpio },
    });
  }
  return chip.base + pin;
}

/** Reads the chips under sysfsRoot and returns a mapper from BCM pin to sysfs number. */
export async function loadPinMap(
  sysfsRoot: string,
): Promise<{ chip: GpioChipInfo; map(pin: number): number }> {
  const chip = selectHeaderChip(await readGpioChips(sysfsRoot));
  return { chip, map: (pin) => bcmToSysfs(chip, pin) };
}
