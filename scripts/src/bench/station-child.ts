/**
 * One real agent (a SimStation: the real agent over simulated hardware and audio timing) in a
 * process of its own, for the fan-out benchmark: a station in the field has its own CPU, so its
 * latency is measured apart from the many agents that share the load generator's event loop.
 * Forked with IPC: receives {type:'start', spec}, answers {type:'ready', deviceId} once enrolled
 * and connected, stops on {type:'stop'} (or when the parent goes away).
 */
import { pino } from 'pino';
import { SimStation, type SimStationSpec } from '../sim/station.js';

type WireSpec = Omit<SimStationSpec, 'server' | 'mqtt'> & { server: string; mqtt: string };

let station: SimStation | undefined;

async function stop(): Promise<void> {
  await station?.stop().catch(() => undefined);
  process.exit(0);
}

process.on('disconnect', () => void stop());
process.on('message', (m: { type: 'start'; spec: WireSpec } | { type: 'stop' }) => {
  if (m.type === 'stop') {
    void stop();
    return;
  }
  void (async () => {
    try {
      station = new SimStation(
        { ...m.spec, server: new URL(m.spec.server), mqtt: new URL(m.spec.mqtt) },
        pino({ level: process.env.LOA_BENCH_STATION_LOG ?? 'silent' }),
      );
      await station.start();
      const until = Date.now() + 60_000;
      while (!(station.deviceId && station.runtime?.link()?.connected)) {
        if (Date.now() > until) throw new Error('the station did not enrol and connect within 60 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      process.send?.({ type: 'ready', deviceId: station.deviceId });
    } catch (e) {
      process.send?.({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
