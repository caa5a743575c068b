/**
 * Records presence durably for uptime: a `server-start` mark when it starts, each device's
 * connection opening and closing as the broker sees it, an `server-alive` mark every minute (after
 * a crash, the last mark bounds when the server stopped observing), and `server-stop` on a clean stop.
 */
import { type Clock, globalTimers, type Timers } from '@loa/protocol';
import type { Logger } from 'pino';
import type { BrokerApi } from '../broker/types.js';
import { withDefaults } from '../defaults.js';
import type { PresenceEntry } from '../domain/model.js';
import type { PresenceStream } from '../store/ports.js';

export const PRESENCE_RECORDER_DEFAULTS = {
  /** Interval of the server's alive marks (ms). */
  aliveMs: 60_000,
};

export interface PresenceRecorderOptions {
  presence: PresenceStream;
  broker: Pick<BrokerApi, 'onPresence' | 'presenceAll'>;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  aliveMs?: number;
}

export class PresenceRecorder {
  readonly #o: PresenceRecorderOptions;
  readonly #aliveMs: number;
  readonly #timers: Timers;
  readonly #connected = new Map<string, boolean>();
  #timer: unknown;
  #unsub: (() => void) | undefined;
  #stopped = true;

  constructor(o: PresenceRecorderOptions) {
    this.#o = o;
    this.#aliveMs = withDefaults(PRESENCE_RECORDER_DEFAULTS, o).aliveMs;
    this.#timers = o.timers ?? globalTimers;
  }

  #write(event: PresenceEntry['event'], deviceId?: string): Promise<void> {
    const entry: PresenceEntry = {
      at: new Date(this.#o.clock.now()).toISOString(),
      event,
      ...(deviceId ? { deviceId } : {}),
    };
    return this.#o.presence.append(entry).catch((err) => {
      this.#o.logger.error({ err, code: 'PRESENCE_WRITE_FAILED' }, 'presence event not stored');
    });
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#write('server-start');
    // connections already open (the broker starts first) are recorded as they are now
    for (const [id, info] of this.#o.broker.presenceAll())
      if (info.connected) {
        this.#connected.set(id, true);
        await this.#write('connect', id);
      }
    this.#unsub = this.#o.broker.onPresence((info) => {
      if ((this.#connected.get(info.deviceId) ?? false) === info.connected) return;
      this.#connected.set(info.deviceId, info.connected);
      void this.#write(info.connected ? 'connect' : 'disconnect', info.deviceId);
    });
    const arm = () => {
      this.#timer = this.#timers.setTimeout(tick, this.#aliveMs);
      (this.#timer as { unref?: () => void } | undefined)?.unref?.();
    };
    const tick = () => {
      if (this.#stopped) return;
      void this.#write('server-alive');
      arm();
    };
    arm();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsub?.();
    this.#timers.clearTimeout(this.#timer);
    await this.#write('server-stop');
  }
}
