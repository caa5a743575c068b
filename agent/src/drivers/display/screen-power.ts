/**
 * Screen power: HDMI-CEC through `cec-client` (libcec) when it is installed, else the Wayland
 * output through `wlr-randr` (cage is a wlroots compositor), else nothing (reported as `none`).
 */
import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { PowerControl, ScreenPower } from './types.js';

export async function findOnPath(cmd: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export interface ScreenPowerOptions {
  /** wlr-randr output name, e.g. HDMI-A-1. */
  output?: string;
  /** Environment for wlr-randr (WAYLAND_DISPLAY, XDG_RUNTIME_DIR of the cage session). */
  env?: NodeJS.ProcessEnv;
  /** Where the tools are looked for (default: PATH). */
  path?: string;
}

class CecPower implements ScreenPower {
  readonly control = 'cec' as const;
  private on: boolean | undefined;
  constructor(private readonly bin: string) {}
  async set(on: boolean): Promise<void> {
    // One command, single-command mode (-s), logging errors only (-d 1); device 0 is the TV.
    await new Promise<void>((resolve, reject) => {
      const p = spawn(this.bin, ['-s', '-d', '1'], { stdio: ['pipe', 'ignore', 'ignore'] });
      p.once('error', reject);
      p.once('exit', (code) =>
        code === 0 ? resolve() : reject(new LoaError('SCREEN_POWER_FAILED', `cec-client exited ${code}`)),
      );
      p.stdin.end(on ? 'on 0\n' : 'standby 0\n');
    });
    this.on = on;
  }
  state() {
    return this.on === undefined ? 'unknown' : this.on ? 'on' : 'off';
  }
}

class WlrPower implements ScreenPower {
  readonly control = 'wlr-randr' as const;
  private on: boolean | undefined;
  constructor(
    private readonly bin: string,
    private readonly o: ScreenPowerOptions,
  ) {}
  async set(on: boolean): Promise<void> {
    const output = this.o.output ?? 'HDMI-A-1';
    await new Promise<void>((resolve, reject) =>
      execFile(
        this.bin,
        ['--output', output, on ? '--on' : '--off'],
        { env: this.o.env ?? process.env },
        (e) =>
          e
            ? reject(new LoaError('SCREEN_POWER_FAILED', `wlr-randr: ${e.message}`, { cause: e }))
            : resolve(),
      ),
    );
    this.on = on;
  }
  state() {
    return this.on === undefined ? 'unknown' : this.on ? 'on' : 'off';
  }
}

class NoPower implements ScreenPower {
  readonly control = 'none' as const;
  async set(): Promise<void> {}
  state() {
    return 'unknown' as const;
  }
}

/** The best screen power control this board has. */
export async function detectScreenPower(
  prefer: PowerControl | 'auto' = 'auto',
  o: ScreenPowerOptions = {},
): Promise<ScreenPower> {
  if (prefer === 'none') return new NoPower();
  if (prefer === 'auto' || prefer === 'cec') {
    const cec = await findOnPath('cec-client', o.path);
    if (cec) return new CecPower(cec);
  }
  if (prefer === 'auto' || prefer === 'wlr-randr') {
    const wlr = await findOnPath('wlr-randr', o.path);
    if (wlr) return new WlrPower(wlr, o);
  }
  return new NoPower();
}
