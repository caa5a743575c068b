/** A real aedes broker on 127.0.0.1 and a server-side mqtt.js client for link tests. */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';

export interface BrokerFixture {
  url: string;
  broker: Aedes;
  server: Server;
  sockets: Set<Socket>;
  /** Cuts every TCP connection (as a 4G drop would). */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startBroker(): Promise<BrokerFixture> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    broker,
    server,
    sockets,
    cutAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

/** A "server" client that records messages by topic. */
export async function observer(url: string, topics: string[]) {
  const client: MqttClient = await connectAsync(url, {
    clientId: `obs-${Math.random()}`,
    reconnectPeriod: 0,
  });
  const messages: { topic: string; json: unknown; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, json: JSON.parse(payload.toString()), retain: packet.retain });
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const waitFor = async <T = unknown>(
    pred: (m: { topic: string; json: T }) => boolean,
    timeoutMs = 20_000,
  ) => {
    const start = Date.now();
    for (;;) {
      const hit = messages.find((m) => pred(m as { topic: string; json: T }));
      if (hit) return hit as { topic: string; json: T; retain: boolean };
      if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for an MQTT message');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { client, messages, waitFor };
}
