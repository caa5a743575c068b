/**
 * Simulated browser and screen: the same state as the real driver (running, restarts, power)
 * without a process, for demos and the simulator. A screenshot needs a real browser.
 */
import { LoaError } from '@loa/protocol';
import type { DisplayDriver, ScreenPower } from './types.js';

export class SimDisplayDriver implements DisplayDriver {
  readonly name = 'sim';
  url: string | undefined;
  restarts = 0;
  private up = false;

  async start(url: string): Promise<void> {
    this.url = url;
    this.up = true;
  }

  async restart(): Promise<void> {
    this.restarts++;
    this.up = true;
  }

  async screenshot(): Promise<Buffer> {
    throw new LoaError('DISPLAY_SCREENSHOT_UNAVAILABLE', 'Màn hình mô phỏng không chụp được ảnh');
  }

  running(): boolean {
    return this.up;
  }

  async stop(): Promise<void> {
    this.up = false;
  }
}

export class SimScreenPower implements ScreenPower {
  readonly control = 'none' as const;
  private on: boolean | undefined;

  async set(on: boolean): Promise<void> {
    this.on = on;
  }

  state(): 'on' | 'off' | 'unknown' {
    return this.on === undefined ? 'unknown' : this.on ? 'on' : 'off';
  }
}
