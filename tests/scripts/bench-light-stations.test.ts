/**
 * The light stations of the fan-out benchmark, over a real aedes broker on 127.0.0.1: clients in
 * worker threads report arrivals through shared memory; station clients count an emergency only
 * once its signed manifest verifies against a trust policy from the pinned root and its inline
 * audio matches the manifest, and refuse a forged one.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { EmergencySchema, type ManifestBody, publicKeyToPem } from '@loa/protocol';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LightStationPool } from '../../scripts/src/bench/light-stations.js';
import { createPki, type Pki, signManifest } from '../../scripts/src/sim/pki.js';

let broker: Aedes;
let server: Server;
let url: string;
let publisher: MqttClient;

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `mqtt://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  publisher = await connectAsync(url, { clientId: 'test-publisher', reconnectPeriod: 0 });
});

afterAll(async () => {
  await publisher?.endAsync(true);
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

function emergency(pki: Pki, id: string, audio: Buffer, carried: Buffer = audio): string {
  const now = new Date();
  const body: ManifestBody = {
    type: 'loa-bundle',
    format: 1,
    id,
    channel: 'emergency',
    version: 1,
    created: now.toISOString(),
    expires: new Date(now.getTime() + 3600_000).toISOString(),
    targets: [{ unit: '08' }],
    items: [
      {
        id: 'canh-bao',
        title: 'Cảnh báo lũ quét',
        kind: 'audio',
        priority: 'emergency',
        lang: 'vi',
        blob: {
          sha256: createHash('sha256').update(audio).digest('hex'),
          size: audio.length,
          mediaType: 'audio/ogg',
        },
        durationMs: 5000,
      },
    ],
    schedule: [{ id: 'now', items: ['canh-bao'], rule: { type: 'immediate' } }],
  };
  const manifest = signManifest(body, [pki.keys.emergency]);
  return JSON.stringify(
    EmergencySchema.parse({
      manifest,
      blobBase: 'http://127.0.0.1:9/api/v1/blobs',
      serverTime: now.toISOString(),
      inline: [{ sha256: body.items[0]?.blob?.sha256, data: carried.toString('base64') }],
    }),
  );
}

describe('light stations in worker threads', () => {
  it('report raw arrivals and verified emergencies, and refuse a forged one', {
    timeout: 90_000,
  }, async () => {
    const pki = createPki({ province: '08', now: new Date() });
    const pool = new LightStationPool(2, 10);
    try {
      await pool.connect('raw', 6, (i) => ({
        url,
        clientId: `raw-${i}`,
        subscriptions: ['bench/raw'],
      }));
      await pool.connect(
        'station',
        6,
        (i) => ({ url, clientId: `station-${i}`, subscriptions: ['loa/v1/u/08/emergency'] }),
        { policy: pki.trust, rootPems: [publicKeyToPem(pki.root.publicKey)] },
      );

      pool.arm('raw');
      const sentAt = performance.timeOrigin + performance.now();
      await publisher.publishAsync('bench/raw', Buffer.alloc(2000, 0x61), { qos: 1 });
      const raw = await pool.collect('raw', 30_000);
      expect(raw).toMatchObject({ arrived: 6, refused: 0, expected: 6 });
      expect(raw.times.every((t) => t >= sentAt)).toBe(true);

      const audio = Buffer.from('OggS speech-grade opus, for the test');
      pool.arm('station');
      await publisher.publishAsync('loa/v1/u/08/emergency', emergency(pki, 'em-1', audio), { qos: 1 });
      const good = await pool.collect('station', 30_000);
      expect(good).toMatchObject({ arrived: 6, refused: 0, expected: 6 });

      // the same signed manifest with other audio in the message: nothing is ready, all refuse
      pool.arm('station');
      const forged = emergency(pki, 'em-2', audio, Buffer.from('other audio of the same length!!!!!!!'));
      await publisher.publishAsync('loa/v1/u/08/emergency', forged, { qos: 1 });
      const bad = await pool.collect('station', 30_000);
      expect(bad).toMatchObject({ arrived: 0, refused: 6 });
      expect(pool.refusals.map((r) => r.code)).toContain('BLOB_MISMATCH');

      // signed by a key the trust policy does not delegate
      const stranger = createPki({ province: '08', now: new Date() });
      pool.arm('station');
      await publisher.publishAsync('loa/v1/u/08/emergency', emergency(stranger, 'em-3', audio), { qos: 1 });
      const unsigned = await pool.collect('station', 30_000);
      expect(unsigned).toMatchObject({ arrived: 0, refused: 6 });
      expect(pool.refusals.length).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });
});
