/**
 * A simulated fleet: N SimStations (the real agent each) started with jitter, with power cuts
 * (Poisson per device), cell outages (every link cut at once), and a share of faulty amplifiers.
 */
import type { Logger } from 'pino';
import { nextEventMs } from './random.js';
import type { SimStation } from './station.js';

export interface FaultOptions {
  powerCutsPerHour: number;
  powerCutSeconds: number;
  outagesPerHour: number;
  outageSeconds: number;
  jitterMs: number;
  /** Stations started at once (enrolment and first downloads are the heavy part). */
  startConcurrency?: number;
}

export interface FleetSummary {
  devices: number;
  running: number;
  powerCut: number;
  enrolled: number;
  connected: number;
  ampFaults: number;
  /** Devices playing something now (their player's own status). */
  onAir: number;
  /** Signed recalls obeyed (bundles withdrawn), summed over the devices running now. */
  withdrawn: number;
  powerCuts: number;
  outages: number;
  startFailures: number;
  /** Largest board clock offset from real time (ms), from simulated drift. */
  maxClockOffsetMs: number;
}

export class SimFleet {
  private timers = new Set<NodeJS.Timeout>();
  private stopped = true;
  private counters = { powerCuts: 0, outages: 0, startFailures: 0 };

  constructor(
    readonly stations: readonly SimStation[],
    private readonly faults: FaultOptions,
    private readonly random: () => number,
    private readonly logger: Logger,
  ) {}

  private later(ms: number, fn: () => void): void {
    if (this.stopped || !Number.isFinite(ms)) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private async startOne(st: SimStation): Promise<void> {
    try {
      await st.start();
    } catch (err) {
      this.counters.startFailures++;
      this.logger.warn({ err, device: st.spec.name }, 'simulated device failed to start; retrying');
      this.later(5000 + this.random() * this.faults.jitterMs, () => void this.startOne(st));
      return;
    }
    this.schedulePowerCut(st);
  }

  private schedulePowerCut(st: SimStation): void {
    this.later(nextEventMs(this.faults.powerCutsPerHour, this.random), () => {
      this.counters.powerCuts++;
      void st
        .powerCut(this.faults.powerCutSeconds * 1000)
        .then(() =>
          this.later(
            this.faults.powerCutSeconds * 1000 + this.random() * this.faults.jitterMs,
            () => void this.startOne(st),
          ),
        );
    });
  }

  private scheduleOutage(): void {
    this.later(nextEventMs(this.faults.outagesPerHour, this.random), () => {
      this.counters.outages++;
      for (const st of this.stations) st.linkOutage(this.faults.outageSeconds * 1000);
      this.scheduleOutage();
    });
  }

  /** Starts every station (jittered, a few at a time); resolves when all have been tried once. */
  async start(): Promise<void> {
    this.stopped = false;
    const queue = [...this.stations];
    const worker = async () => {
      for (let st = queue.shift(); st; st = queue.shift()) {
        if (this.stopped) return;
        await new Promise((r) => setTimeout(r, this.random() * Math.min(this.faults.jitterMs, 2000)));
        await this.startOne(st);
      }
    };
    await Promise.all(Array.from({ length: this.faults.startConcurrency ?? 4 }, worker));
    this.scheduleOutage();
  }

  summary(): FleetSummary {
    let running = 0;
    let powerCut = 0;
    let enrolled = 0;
    let connected = 0;
    let ampFaults = 0;
    let onAir = 0;
    let withdrawn = 0;
    let maxClockOffsetMs = 0;
    for (const st of this.stations) {
      maxClockOffsetMs = Math.max(maxClockOffsetMs, Math.abs(st.clockOffsetMs()));
      if (st.state === 'running') running++;
      if (st.state === 'power-cut') powerCut++;
      if (st.deviceId) enrolled++;
      if (st.runtime?.link()?.connected) connected++;
      if (st.spec.ampFault) ampFaults++;
      if (st.onAir() !== undefined) onAir++;
      withdrawn += st.recalled().length;
    }
    return {
      devices: this.stations.length,
      running,
      powerCut,
      enrolled,
      connected,
      ampFaults,
      onAir,
      withdrawn,
      maxClockOffsetMs: Math.round(maxClockOffsetMs),
      ...this.counters,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.stations.map((s) => s.stop().catch(() => undefined)));
  }
}
