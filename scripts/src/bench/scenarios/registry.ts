/**
 * Scenario 7 (registry part): the embedded store's registry (lowdb, coalesced, fsync'd) with
 * 10,000 devices: size of the file, latency of one registry write until it is durable, bytes
 * written per write. Bytes written to the registry per health message are measured on the real
 * server path by the `ingest` scenario.
 */

import { createFileStore, type DeviceRecord, type UnitRecord } from '@loa/fleet-server';
import { generateKeyPair, keyId, rawPublicKey } from '@loa/protocol';
import { figure, type Scenario } from '../harness.js';
import { round, summarize } from '../stats.js';

export function benchDevice(
  i: number,
  unit: string,
  publicKey: string,
  kid: string,
  now: string,
): DeviceRecord {
  const id = `st-${unit.split('/').at(-1)}-${i.toString(16).padStart(10, '0')}`;
  return {
    id,
    unit,
    kind: 'station',
    name: `Cụm loa ${i}`,
    status: 'active',
    publicKey,
    keyId: `${kid.slice(0, 54)}${i.toString(16).padStart(10, '0')}`,
    mqttPasswordHash: `scrypt$1024$8$1$${'A'.repeat(22)}==$${'B'.repeat(43)}=`,
    groups: [],
    hardware: { model: 'Raspberry Pi 4 Model B', agentVersion: '0.1.0', modem: 'Quectel EC25' },
    enrolledAt: now,
    updatedAt: now,
  };
}

export const registry: Scenario = {
  name: 'registry',
  title: 'Registry with 10,000 devices: write latency (durable) and bytes written',
  budgetMs: { quick: 20_000, full: 60_000 },
  async run(ctx) {
    const devices = 10_000;
    const now = () => Date.now();
    const store = createFileStore({
      dataDir: ctx.tmpDir,
      now,
      retentionDays: 30,
      registryFlushMs: 200,
      healthFsyncMs: 1000,
    });
    await store.start();
    try {
      const iso = new Date().toISOString();
      const communes = ['08/02500', '08/02503', '08/02506', '08/02509'];
      const units: UnitRecord[] = [
        {
          path: '08',
          code: '08',
          name: 'Tuyên Quang',
          level: 'province',
          parent: null,
          demo: true,
          createdAt: iso,
          updatedAt: iso,
        },
        ...communes.map((p, i) => ({
          path: p,
          code: p.slice(3),
          name: `Xã ${i + 1}`,
          level: 'commune',
          parent: '08',
          demo: true,
          createdAt: iso,
          updatedAt: iso,
        })),
      ];
      await store.units.putMany(units);
      const k = generateKeyPair();
      const pub = rawPublicKey(k.publicKey).toString('base64');
      const kid = keyId(k.publicKey);
      const t0 = performance.now();
      for (let i = 0; i < devices; i++)
        await store.devices.put(benchDevice(i, communes[i % communes.length] as string, pub, kid, iso));
      await store.flush();
      const loadMs = performance.now() - t0;
      const before = store.stats();
      const rounds = ctx.quick ? 20 : 60;
      const lat: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const id = benchDevice(r * 97, communes[(r * 97) % communes.length] as string, pub, kid, iso).id;
        const s = performance.now();
        await store.devices.update(id, { name: `Cụm loa đổi tên ${r}`, updatedAt: new Date().toISOString() });
        await store.flush();
        lat.push(performance.now() - s);
      }
      const after = store.stats();
      const writes = after.registryWrites - before.registryWrites;
      const bytes = after.registryBytesWritten - before.registryBytesWritten;
      const s = summarize(lat);
      return {
        notes: [
          `${devices} devices in 5 units; ${rounds} rounds of update one device + flush (temp file, fsync, rename, fsync dir).`,
          `loading ${devices} devices and the first flush took ${round(loadMs)} ms; ${writes} registry writes, ${round(bytes / Math.max(1, writes) / 1024)} KB each.`,
          'Coalescing: without the explicit flush, every change within registryFlushMs (200 ms) shares one write.',
        ],
        figures: [
          figure('registry.write.p50', 'registry write until durable, p50 (10,000 devices)', s.p50, 'ms'),
          figure('registry.write.p99', 'registry write until durable, p99 (10,000 devices)', s.p99, 'ms'),
          figure(
            'registry.bytes-per-write',
            'bytes written per registry write',
            bytes / Math.max(1, writes),
            'B',
          ),
        ],
        details: { latency: s, writes, bytes },
      };
    } finally {
      await store.stop();
    }
  },
};
