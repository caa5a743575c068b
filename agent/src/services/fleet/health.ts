/**
 * Health collector: what the station actually observes (CPU temperature, load, memory, disk,
 * uptime, modem, inputs, relays, on air, bundles, clock, proof backlog, last error), shaped as
 * protocol Health. Sources are injected getters so the collector knows no service internals.
 */
import { readFile, statfs } from 'node:fs/promises';
import { freemem, loadavg, totalmem } from 'node:os';
import type { Clock, ClockState, Health, RelayState } from '@loa/protocol';

export interface HealthSources {
  agentVersion: string;
  clock: Clock;
  /** Directory whose file system is reported as disk free (the data dir). */
  dataDir: string;
  /** Where the CPU temperature is read (millidegrees). */
  thermalFile?: string;
  /** Process start, ms since epoch (for uptime). Defaults to the collector's creation. */
  startedAt?: number;
  relays: () => RelayState;
  inputs?: () => Health['inputs'];
  modem?: () => Health['modem'] | null | undefined;
  player?: () => { onAir: Health['onAir']; volume?: number; deadAir?: boolean } | undefined;
  bundles: () => { channel: string; id: string; version: number }[];
  trustVersion: () => number | undefined;
  clockState: () => ClockState;
  proofBacklog: () => number;
  lastError: () => Health['lastError'];
  /** A noticeboard's screen (services/display). */
  display?: () => Health['display'];
  /** The latest USB stick import (services/content/usb-import). */
  usbImport?: () => Health['usbImport'];
}

export async function cpuTemperatureC(
  file = '/sys/class/thermal/thermal_zone0/temp',
): Promise<number | undefined> {
  try {
    const milli = Number((await readFile(file, 'utf8')).trim());
    if (!Number.isFinite(milli)) return undefined;
    const c = Math.round(milli / 100) / 10;
    return c >= -50 && c <= 150 ? c : undefined;
  } catch {
    return undefined;
  }
}

export async function diskFreeMb(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return Math.round((s.bavail * s.bsize) / 1048576);
  } catch {
    return undefined;
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export class HealthCollector {
  private seq = 0;
  private readonly startedAt: number;
  private errors: NonNullable<Health['lastError']>[] = [];

  constructor(private readonly s: HealthSources) {
    this.startedAt = s.startedAt ?? s.clock.now();
  }

  /** Remember a failure for health (the newest is reported; a few are kept for the technician page). */
  reportError(code: string, message: string): void {
    const e = {
      code: code.slice(0, 64),
      message: message.slice(0, 500),
      at: new Date(this.s.clock.now()).toISOString(),
    };
    this.errors = [e, ...this.errors].slice(0, 20);
  }

  recentErrors(): readonly NonNullable<Health['lastError']>[] {
    return this.errors;
  }

  async collect(): Promise<Health> {
    const now = this.s.clock.now();
    const [temp, disk] = await Promise.all([cpuTemperatureC(this.s.thermalFile), diskFreeMb(this.s.dataDir)]);
    const player = this.s.player?.();
    const modem = this.s.modem?.();
    const candidates = [this.s.lastError(), this.errors[0]].filter(
      (e): e is NonNullable<Health['lastError']> => !!e,
    );
    const lastError = candidates.sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
    const trustVersion = this.s.trustVersion();
    const h: Health = {
      at: new Date(now).toISOString(),
      seq: ++this.seq,
      agentVersion: this.s.agentVersion,
      uptimeS: Math.max(0, Math.round((now - this.startedAt) / 1000)),
      load1: round1(loadavg()[0] ?? 0),
      memUsedMb: Math.round((totalmem() - freemem()) / 1048576),
      memTotalMb: Math.round(totalmem() / 1048576),
      inputs: this.s.inputs?.() ?? { mains: null, door: null, ampFault: null },
      relays: this.s.relays(),
      onAir: player?.onAir ?? null,
      bundles: this.s.bundles().slice(0, 64),
      clock: this.s.clockState(),
      proofBacklog: this.s.proofBacklog(),
    };
    if (temp !== undefined) h.cpuTempC = temp;
    if (disk !== undefined) h.diskFreeMb = disk;
    if (modem) h.modem = modem;
    if (player?.volume !== undefined) h.volume = player.volume;
    if (player?.deadAir !== undefined) h.deadAir = player.deadAir;
    if (trustVersion !== undefined) h.trustVersion = trustVersion;
    if (lastError) h.lastError = lastError;
    const display = this.s.display?.();
    if (display) h.display = display;
    const usb = this.s.usbImport?.();
    if (usb) h.usbImport = usb;
    return h;
  }
}
