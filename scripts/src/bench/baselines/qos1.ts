/**
 * QoS 1 publish throughput: P publishers, each keeping a window of un-acknowledged messages,
 * counting PUBACKs. The broker is raw aedes in a child process; nobody subscribes.
 */
import type { MqttClient } from 'mqtt';

export interface ThroughputRun {
  messages: number;
  seconds: number;
  perSecond: number;
}

/**
 * Sends `total` QoS 1 messages spread over the clients, at most `window` in flight per client.
 * `payload(i, c)` builds message i for client c; `topic(c)` names each client's topic.
 */
export async function publishQos1(opts: {
  clients: readonly MqttClient[];
  total: number;
  window: number;
  topic: (c: number) => string;
  payload: (i: number, c: number) => Buffer | string;
  stop?: () => boolean;
}): Promise<ThroughputRun> {
  let next = 0;
  let acked = 0;
  const start = performance.now();
  await Promise.all(
    opts.clients.map(async (client, c) => {
      const lane = async () => {
        while (next < opts.total && !opts.stop?.()) {
          const i = next++;
          await client.publishAsync(opts.topic(c), opts.payload(i, c), { qos: 1 });
          acked++;
        }
      };
      await Promise.all(Array.from({ length: opts.window }, lane));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { messages: acked, seconds, perSecond: acked / seconds };
}
