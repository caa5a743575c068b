/**
 * Device credential check shared by the broker (MQTT CONNECT) and HTTP (Basic auth for blobs).
 * Passwords are scrypt-hashed at rest; a successful check is remembered in memory as a SHA-256 of
 * the password so a reconnect storm of thousands of devices costs a hash each, not a scrypt.
 */
import { safeEqual, sha256Hex, verifySecret } from '../store/secrets.js';
import type { DeviceRecord, DeviceRepository } from '../store/types.js';

export class DeviceAuthenticator {
  private readonly cache = new Map<string, string>();
  constructor(private readonly devices: DeviceRepository) {}

  /** The device when the password matches and the device is active (or pending, see allowPending). */
  async verify(deviceId: string, password: string, allowPending = false): Promise<DeviceRecord | null> {
    if (deviceId.length > 128 || password.length > 256) return null;
    const d = await this.devices.get(deviceId);
    if (!d) return null;
    if (d.status !== 'active' && !(allowPending && d.status === 'pending')) return null;
    const digest = sha256Hex(`${deviceId}\0${password}`);
    const cached = this.cache.get(deviceId);
    if (cached !== undefined) return safeEqual(cached, digest) ? d : null;
    if (!(await verifySecret(password, d.mqttPasswordHash))) return null;
    this.cache.set(deviceId, digest);
    return d;
  }

  forget(deviceId: string): void {
    this.cache.delete(deviceId);
  }
}
