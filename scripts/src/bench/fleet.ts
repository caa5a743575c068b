/** Starts the real fleet server for a benchmark (in the child process). */
export interface BenchFleet {
  httpPort: number;
  mqttPort: number;
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startBenchFleet(options: Record<string, unknown>): Promise<BenchFleet> {
  const mod = (await import('@loa/fleet-server')) as Record<string, unknown>;
  const start = mod.startFleetServer;
  if (typeof start !== 'function') throw new Error('@loa/fleet-server does not export startFleetServer yet');
  throw new Error(`startFleetServer wiring pending (options ${Object.keys(options).join(', ')})`);
}
