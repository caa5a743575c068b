import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '../../../fleet-server/src/store/file-store.js';
import { connectDevice, enrolDevice, loginAs, startTestServer } from '../app/harness.js';
import { eventually } from '../publish/harness.js';

describe('presence recorder', () => {
  it('stores the server start, a real MQTT connection opening and closing, and the clean stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loa-presence-'));
    try {
      const s = await startTestServer({ dir });
      const admin = await loginAs(s, 'quantri', 'administrator', ['08']);
      const dev = await enrolDevice(s, admin, '08/02500');
      const client = await connectDevice(s.mqttUrl, dev.deviceId, dev.password);
      const seen = async () =>
        (await s.deps.store.presence.query({})).map((e) => `${e.event} ${e.deviceId ?? ''}`.trim());
      await eventually(async () => expect(await seen()).toContain(`connect ${dev.deviceId}`));
      await client.endAsync();
      await eventually(async () => expect(await seen()).toContain(`disconnect ${dev.deviceId}`));
      await s.stop();
      // read back from disk, as the reports will after a restart
      const store = createFileStore({
        dataDir: dir,
        now: () => Date.now(),
        retentionDays: 30,
        registryFlushMs: 20,
        healthFsyncMs: 50,
      });
      await store.start();
      const events = (await store.presence.query({})).map((e) => `${e.event} ${e.deviceId ?? ''}`.trim());
      await store.stop();
      expect(events).toEqual([
        'server-start',
        `connect ${dev.deviceId}`,
        `disconnect ${dev.deviceId}`,
        'server-stop',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
