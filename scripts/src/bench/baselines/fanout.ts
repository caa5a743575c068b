/**
 * Fan-out latency (the cancel scenario's baseline): one publisher, N subscribers, p50/p99 from publish to delivery. Clients and
 * timestamps live in this process (performance.now()), the broker in another.
 */
import type { MqttClient } from 'mqtt';
import { connectMany } from '../mqtt-fleet.js';

export interface FanoutRun {
  latenciesMs: number[];
  delivered: number;
  expected: number;
  messages: number;
}

/** A payload of `size` bytes carrying its sequence number and send time in the first 16 bytes. */
export function stampedPayload(size: number, seq: number): Buffer {
  const b = Buffer.alloc(Math.max(16, size), 0x61);
  b.writeDoubleLE(seq, 0);
  b.writeDoubleLE(performance.now(), 8);
  return b;
}

export async function measureFanout(opts: {
  publisher: MqttClient;
  subscribers: readonly MqttClient[];
  topic: string;
  payloadBytes: number;
  messages: number;
  qos: 0 | 1;
  perMessageTimeoutMs: number;
  stop?: () => boolean;
}): Promise<FanoutRun> {
  const latencies: number[] = [];
  let got = 0;
  const onMessage = (_t: string, payload: Buffer) => {
    if (payload.length < 16) return;
    latencies.push(performance.now() - payload.readDoubleLE(8));
    got++;
  };
  await Promise.all(opts.subscribers.map((s) => s.subscribeAsync(opts.topic, { qos: opts.qos })));
  for (const s of opts.subscribers) s.on('message', onMessage);
  let sent = 0;
  try {
    for (let i = 0; i < opts.messages; i++) {
      if (opts.stop?.()) break;
      const target = got + opts.subscribers.length;
      await opts.publisher.publishAsync(opts.topic, stampedPayload(opts.payloadBytes, i), { qos: opts.qos });
      sent++;
      const start = performance.now();
      while (got < target && performance.now() - start < opts.perMessageTimeoutMs)
        await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    for (const s of opts.subscribers) s.off('message', onMessage);
  }
  return { latenciesMs: latencies, delivered: got, expected: sent * opts.subscribers.length, messages: sent };
}

/** Connects N plain subscribers and a publisher to a raw broker and measures fan-out. */
export async function rawAedesFanout(
  url: string,
  opts: { subscribers: number; payloadBytes: number; messages: number; qos: 0 | 1; stop?: () => boolean },
): Promise<FanoutRun> {
  const subs = await connectMany({ url, count: opts.subscribers });
  const [pub] = await connectMany({
    url,
    count: 1,
    options: () => ({ clientId: `bench-pub-${process.pid}` }),
  });
  try {
    return await measureFanout({
      publisher: pub as MqttClient,
      subscribers: subs,
      topic: 'bench/fanout',
      payloadBytes: opts.payloadBytes,
      messages: opts.messages,
      qos: opts.qos,
      perMessageTimeoutMs: 10_000,
      ...(opts.stop ? { stop: opts.stop } : {}),
    });
  } finally {
    await Promise.all([...subs, pub].map((c) => c?.endAsync(true).catch(() => undefined)));
  }
}
