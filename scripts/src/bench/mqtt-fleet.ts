/** Many mqtt.js clients in one process, connected in batches (loopback load generator). */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

export interface FleetOptions {
  url: string;
  count: number;
  /** Connections opened at once. */
  batch?: number;
  /** Per-client options (client id, credentials...). */
  options?: (i: number) => IClientOptions;
  connectTimeoutMs?: number;
}

export async function connectMany(opts: FleetOptions): Promise<MqttClient[]> {
  const batch = opts.batch ?? 50;
  const clients: MqttClient[] = [];
  try {
    for (let i = 0; i < opts.count; i += batch) {
      const n = Math.min(batch, opts.count - i);
      const made = await Promise.all(
        Array.from({ length: n }, (_, k) =>
          connectAsync(opts.url, {
            clientId: `bench-${process.pid}-${i + k}`,
            reconnectPeriod: 0,
            connectTimeout: opts.connectTimeoutMs ?? 30_000,
            keepalive: 120,
            ...opts.options?.(i + k),
          }),
        ),
      );
      for (const c of made) c.setMaxListeners(50);
      clients.push(...made);
    }
  } catch (e) {
    await closeMany(clients);
    throw e;
  }
  return clients;
}

export async function closeMany(clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
}
