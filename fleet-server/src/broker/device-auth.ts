/**
 * Device credential check shared by the broker (MQTT CONNECT) and HTTP (Basic auth for blobs).
 * Passwords are scrypt-hashed at rest; a successful check is remembered in memory as a SHA-256 of
 * the password so a reconnect storm of thousands of devices costs a hash each, not a scrypt.
 * Wrong passwords are limited per (device id, remote address) (default 20 per minute) and per
 * address over all device ids (default 100 per minute): beyond that the check refuses without
 * running scrypt, so a flood of bad CONNECTs cannot saturate the thread pool that fsync and logins
 * share. Someone who knows a device id can only lock out their own address: the real station, from
 * its own address, still gets in (and a device whose right password is cached always does).
 */

import { withDefaults } from '../defaults.js';
import type { DeviceRecord } from '../domain/model.js';
import { type GuessLimits, LocalGuessLimits } from '../domain/rate-limit.js';
import { safeEqual, sha256Hex, verifySecret } from '../security/secrets.js';
import type { DeviceRepository } from '../store/ports.js';

export interface DeviceAuthOptions {
  now?: () => number;
  /** Where the failure counters live (default: this process; a cluster shares them). */
  guesses?: GuessLimits;
  maxFailures?: number;
  windowMs?: number;
}

export const DEVICE_AUTH_DEFAULTS = {
  now: (): number => Date.now(),
  /** Wrong passwords per device id and window before checks are refused without scrypt. */
  maxFailures: 20,
  windowMs: 60_000,
};

export class DeviceAuthenticator {
  private readonly cache = new Map<string, string>();
  private readonly guesses: GuessLimits;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Checks refused by the failure limit without running scrypt. */
  throttled = 0;

  constructor(
    private readonly devices: DeviceRepository,
    opts: DeviceAuthOptions = {},
  ) {
    const o = withDefaults(DEVICE_AUTH_DEFAULTS, opts);
    this.now = o.now;
    this.guesses = opts.guesses ?? new LocalGuessLimits();
    this.maxFailures = o.maxFailures;
    this.windowMs = o.windowMs;
  }

  /**
   * The device when the password matches and the device is active (or pending, see allowPending).
   * `remote` is the caller's address (MQTT socket peer, HTTP client address): failures count per
   * device and address.
   */
  async verify(
    deviceId: string,
    password: string,
    allowPending = false,
    remote = '',
  ): Promise<DeviceRecord | null> {
    if (deviceId.length > 128 || password.length > 256) return null;
    const d = await this.devices.get(deviceId);
    if (!d) return null;
    if (d.status !== 'active' && !(allowPending && d.status === 'pending')) return null;
    const digest = sha256Hex(`${deviceId}\0${password}`);
    const cached = this.cache.get(deviceId);
    if (cached !== undefined && safeEqual(cached, digest)) return d;
    const now = this.now();
    // counted before scrypt is awaited, so parallel wrong CONNECTs meet the limit too
    const { maxFailures, windowMs } = this;
    let ticket: Awaited<ReturnType<GuessLimits['reserve']>>;
    try {
      ticket = await this.guesses.reserve(
        [
          {
            limit: 'device-pair',
            key: `${deviceId}|${remote}`,
            maxAttempts: maxFailures,
            windowMs,
            clearOnSuccess: true,
          },
          {
            limit: 'device-address',
            key: remote,
            maxAttempts: maxFailures * 5,
            windowMs,
            clearOnSuccess: false,
          },
        ],
        now,
      );
    } catch {
      // the shared counters cannot be reached: refuse rather than check without a limit
      this.throttled++;
      return null;
    }
    if ('retryAfterMs' in ticket) {
      this.throttled++;
      return null;
    }
    if (!(await verifySecret(password, d.mqttPasswordHash))) {
      ticket.fail();
      return null;
    }
    ticket.succeed();
    this.cache.set(deviceId, digest);
    return d;
  }

  forget(deviceId: string): void {
    this.cache.delete(deviceId);
  }
}
