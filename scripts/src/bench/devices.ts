/**
 * Load-generating devices for the server benchmarks: each enrols through the real
 * POST /api/v1/enrol with its own Ed25519 key, then speaks the protocol over its own mqtt.js
 * connection with the credentials it was given (so the broker's auth, ACL and limits apply).
 */
import { generateKeyPair, type KeyPair, rawPublicKey } from '@loa/protocol';
import { connectAsync, type MqttClient } from 'mqtt';

export interface BenchDevice {
  deviceId: string;
  unit: string;
  key: KeyPair;
  mqtt: { url: string; username: string; password: string; clientId: string };
  /** The trust policy the server handed over at enrolment (to verify against the pinned root). */
  trust?: unknown;
}

export async function enrolMany(
  baseUrl: string,
  tokens: readonly string[],
  count: number,
  concurrency = 16,
  progress?: (done: number) => void,
): Promise<BenchDevice[]> {
  const out: BenchDevice[] = [];
  let next = 0;
  const every = Math.max(100, Math.ceil(count / 10));
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const key = generateKeyPair();
      const token = tokens[Math.floor(i / 500)] ?? tokens[tokens.length - 1];
      const res = await fetch(`${baseUrl}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token,
          publicKey: rawPublicKey(key.publicKey).toString('base64'),
          hardware: { model: 'bench', index: i },
          name: `bench ${i}`,
        }),
      });
      if (!res.ok) throw new Error(`enrol ${i}: HTTP ${res.status} ${await res.text()}`);
      const a = (await res.json()) as {
        deviceId: string;
        unit: string;
        mqtt: BenchDevice['mqtt'];
        trust?: unknown;
      };
      out.push({ deviceId: a.deviceId, unit: a.unit, key, mqtt: a.mqtt, trust: a.trust });
      if (progress && out.length % every === 0) progress(out.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Connects every device with its own credentials, in batches. */
export async function connectDevices(
  devices: readonly BenchDevice[],
  batch = 50,
  progress?: (done: number) => void,
): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  const every = Math.max(1000, batch);
  try {
    for (let i = 0; i < devices.length; i += batch) {
      const made = await Promise.all(
        devices.slice(i, i + batch).map((d) =>
          connectAsync(d.mqtt.url, {
            clientId: d.mqtt.clientId,
            username: d.mqtt.username,
            password: d.mqtt.password,
            reconnectPeriod: 0,
            connectTimeout: 60_000,
            keepalive: 300,
          }),
        ),
      );
      for (const c of made) c.setMaxListeners(50);
      clients.push(...made);
      if (progress && clients.length % every < batch) progress(clients.length);
    }
  } catch (e) {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    throw e;
  }
  return clients;
}
