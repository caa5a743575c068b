import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceAuthenticator } from '../../../fleet-server/src/broker/device-auth.js';
import { DEVICE_SCRYPT, hashSecret } from '../../../fleet-server/src/security/secrets.js';
import { Registry } from '../../../fleet-server/src/store/lowdb/registry.js';

describe('device credential check', () => {
  let dir: string;
  let reg: Registry;
  let t = 0;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loa-devauth-'));
    reg = new Registry(dir, 10);
    await reg.start();
    for (const id of ['a', 'b'])
      await reg.devices.insert({
        id,
        unit: '08/02500',
        kind: 'station',
        name: id,
        status: 'active',
        publicKey: 'x',
        keyId: `k${id}`,
        mqttPasswordHash: await hashSecret(`pw-${id}`, DEVICE_SCRYPT),
        groups: [],
        hardware: {},
        enrolledAt: 'x',
        updatedAt: 'x',
      });
  });
  afterEach(async () => {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops running scrypt for a device id after repeated wrong passwords; a cached device keeps working', async () => {
    const auth = new DeviceAuthenticator(reg.devices, { now: () => t, maxFailures: 5, windowMs: 60_000 });
    expect((await auth.verify('a', 'pw-a'))?.id).toBe('a'); // cached from now on
    for (let i = 0; i < 5; i++) {
      expect(await auth.verify('a', 'guess')).toBeNull();
      expect(await auth.verify('b', 'guess')).toBeNull();
    }
    expect(await auth.verify('b', 'guess')).toBeNull();
    expect(auth.throttled).toBe(1);
    expect((await auth.verify('a', 'pw-a'))?.id).toBe('a');
    expect(await auth.verify('b', 'pw-b')).toBeNull(); // locked for the window
    t += 60_001;
    expect((await auth.verify('b', 'pw-b'))?.id).toBe('b');
  });

  it('refuses revoked devices even with a cached password', async () => {
    const auth = new DeviceAuthenticator(reg.devices);
    expect((await auth.verify('a', 'pw-a'))?.id).toBe('a');
    await reg.devices.update('a', { status: 'revoked' });
    expect(await auth.verify('a', 'pw-a')).toBeNull();
    expect(await auth.verify('nobody', 'pw-a')).toBeNull();
  });
});
