import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../../fleet-server/src/domain/model.js';
import { Registry } from '../../../fleet-server/src/store/lowdb/registry.js';

const device = (id: string, unit = '08/02500'): DeviceRecord => ({
  id,
  unit,
  kind: 'station',
  name: id,
  status: 'active',
  publicKey: 'x',
  keyId: `k-${id}`,
  mqttPasswordHash: 'h',
  groups: [],
  hardware: {},
  enrolledAt: '2026-11-26T00:00:00Z',
  updatedAt: '2026-11-26T00:00:00Z',
});

describe('lowdb registry', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'loa-reg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('coalesces a burst of changes into one file write', async () => {
    const r = new Registry(dir, 100);
    await r.start();
    for (let i = 0; i < 500; i++) await r.devices.put(device(`d${i}`));
    for (let i = 0; i < 500; i++) await r.devices.update(`d${i}`, { name: `renamed ${i}` });
    expect(r.stats().writes).toBe(0);
    await r.flush();
    expect(r.stats().writes).toBe(1);
    const onDisk = JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8'));
    expect(Object.keys(onDisk.devices)).toHaveLength(500);
    expect(onDisk.devices.d7.name).toBe('renamed 7');
    await r.stop();
  });

  it('reloads what it wrote, with secondary indexes, and hands out frozen records', async () => {
    const r = new Registry(dir, 10);
    await r.start();
    await r.devices.insert(device('a', '08/02503'));
    await expect(r.devices.insert(device('a'))).rejects.toMatchObject({ code: 'DEVICE_EXISTS' });
    await expect(r.devices.update('zz', { name: 'x' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    const got = await r.devices.get('a');
    expect(Object.isFrozen(got)).toBe(true);
    expect(() => {
      (got as DeviceRecord).name = 'mutated';
    }).toThrow();
    await r.stop();
    const again = new Registry(dir, 10);
    await again.start();
    expect((await again.devices.byKeyId('k-a'))?.id).toBe('a');
    expect((await again.devices.inUnits(['08'])).map((d) => d.id)).toEqual(['a']);
    expect(await again.devices.inUnits(['08/02500'])).toHaveLength(0);
    await again.stop();
  });

  it('removes temp files a killed writer left behind', async () => {
    writeFileSync(join(dir, '.registry.json.4242.tmp'), '{"partial":');
    const r = new Registry(dir, 10);
    await r.start();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await r.stop();
  });

  it('keeps retrying a failed write until the disk accepts it again', async () => {
    const errors: unknown[] = [];
    const r = new Registry(dir, 10, (e) => errors.push(e));
    await r.start();
    mkdirSync(join(dir, 'registry.json')); // the rename over a directory fails
    await r.devices.put(device('late'));
    const deadline = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(errors.length).toBeGreaterThan(0);
    rmdirSync(join(dir, 'registry.json'));
    while (!existsSync(join(dir, 'registry.json')) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 20));
    expect(JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')).devices.late.id).toBe('late');
    await r.stop();
  });

  it('refuses to start on a damaged registry instead of starting empty', async () => {
    writeFileSync(join(dir, 'registry.json'), '{"format":1,"units":{');
    const r = new Registry(dir, 10);
    await expect(r.start()).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
  });

  it('consumes enrolment tokens atomically and keeps trust policies monotonic', async () => {
    const r = new Registry(dir, 10);
    await r.start();
    await r.enrolmentTokens.insert({
      id: 't',
      hash: 'h',
      unit: '08',
      kind: 'station',
      groups: [],
      maxUses: 2,
      uses: 0,
      expiresAt: '2026-12-01T00:00:00.000Z',
      requireApproval: false,
      createdBy: 'x',
      createdAt: '2026-11-26T00:00:00.000Z',
    });
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => r.enrolmentTokens.consume('h', '2026-11-27T00:00:00.000Z')),
    );
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((x) => x.status === 'rejected')).toHaveLength(1);
    await expect(r.enrolmentTokens.consume('h', '2026-12-02T00:00:00.000Z')).rejects.toMatchObject({
      code: 'ENROL_TOKEN_EXPIRED',
    });
    const policy = { version: 2 } as never;
    await r.trust.put({ version: 2, policy, uploadedAt: 'x', uploadedBy: 'y' });
    await expect(r.trust.put({ version: 2, policy, uploadedAt: 'x', uploadedBy: 'y' })).rejects.toMatchObject(
      {
        code: 'TRUST_ROLLBACK',
      },
    );
    await r.stop();
  });
});
