/**
 * Device credential check shared by the broker (MQTT CONNECT) and HTTP (Basic auth for blobs).
 * Passwords are scrypt-hashed at rest; a successful check is remembered in memory as a SHA-256 of
 * the password so a reconnect storm of thousands of devices costs a hash each, not a scrypt.
 * Wrong passwords for one device id are limited (default 20 per minute): beyond that the check
 * refuses without running scrypt, so a flood of bad CONNECTs cannot saturate the thread pool that
 * fsync and logins share. A device whose right password is already cached is never locked out.
 */

import { withDefaults } from '../defaults.js';
import { LoginLimiter } from '../domain/limits.js';
import type { DeviceRecord } from '../domain/model.js';
import { safeEqual, sha256Hex, verifySecret } from '../security/secrets.js';
import type { DeviceRepository } from '../store/ports.js';

export interface DeviceAuthOptions {
  now?: () => number;
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
  private readonly failures: LoginLimiter;
  private readonly now: () => number;
  /** Checks refused by the failure limit without running scrypt. */
  throttled = 0;

  constructor(
    private readonly devices: DeviceRepository,
    opts: DeviceAuthOptions = {},
  ) {
    const o = withDefaults(DEVICE_AUTH_DEFAULTS, opts);
    this.now = o.now;
    this.failures = new LoginLimiter({ maxAttempts: o.maxFailures, windowMs: o.windowMs });
  }

  /** The device when the password matches and the device is active (or pending, see allowPending). */
  async verify(deviceId: string, password: string, allowPending = false): Promise<DeviceRecord | null> {
    if (deviceId.length > 128 || password.length > 256) return null;
    const d = await this.devices.get(deviceId);
    if (!d) return null;
    if (d.status !== 'active' && !(allowPending && d.status === 'pending')) return null;
    const digest = sha256Hex(`${deviceId}\0${password}`);
    const cached = this.cache.get(deviceId);
    if (cached !== undefined && safeEqual(cached, digest)) return d;
    const now = this.now();
    if (this.failures.retryAfterMs(deviceId, now) > 0) {
      this.throttled++;
      return null;
    }
    if (!(await verifySecret(password, d.mqttPasswordHash))) {
      this.failures.fail(deviceId, now);
      return null;
    }
    this.failures.succeed(deviceId);
    this.cache.set(deviceId, digest);
    return d;
  }

  forget(deviceId: string): void {
    this.cache.delete(deviceId);
  }
}
