/**
 * The trusted clock: applies the clock-trust rules (domain/clock-trust.ts) to samples from NTP
 * (systemd's `timedatectl show -p NTPSynchronized`), the fleet server and the modem, and persists
 * the latest trusted time in `clock.json` (written to a temp file, fsync'd, renamed).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ClockState } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  agentNow,
  applySample,
  type ClockReading,
  type ClockTrustState,
  checkpoint,
  clockState,
  raiseFloor,
  type TimeSample,
  trustedNow,
} from '../../domain/clock-trust.js';
import { Emitter, type Listenable } from '../../events.js';

export interface TrustedClockOptions {
  /** Directory for the persisted `clock.json` (last trusted time, fsync'd). */
  dataDir: string;
  /** Poll NTP sync state (`timedatectl show -p NTPSynchronized`) this often; default 60 s. 0 disables. */
  ntpPollMs?: number;
  /**
   * The modem's network time (AT+CCLK via the modem supervisor): read at start, at every reading
   * the supervisor makes (the first as soon as the modem answers), and every modemPollMs.
   */
  modem?: ModemClock;
  /** Re-read the modem's time this often besides its readings; default 10 min. */
  modemPollMs?: number;
  /** Persist the last trusted time this often; default 60 s. */
  checkpointMs?: number;
}

/** 'change' when the clock becomes trusted or the trusted time steps (the player re-plans). */
export type TrustedClockEvents = { change: undefined };

/** The modem's network time as station/modem-supervisor.ts serves it. */
export interface ModemClock
  extends Listenable<{ time: { trusted: boolean }; status: { registration: string }; failure: unknown }> {
  /** The last trusted network time advanced by monotonic time; null while there is none. */
  networkNow(): { utcMs: number } | null;
}

/** What each time source said last, while the clock waits for one it can trust. */
export interface SourcesTried {
  ntp: 'not-asked' | 'synchronised' | 'not-synchronised' | 'unavailable';
  server: 'no-answer' | 'answered' | 'rejected';
  modem: 'absent' | 'no-answer' | 'no-network-time' | 'answered' | 'rejected';
}

const TRIED_VI = {
  ntp: {
    'not-asked': 'chưa hỏi',
    synchronised: 'đã đồng bộ',
    'not-synchronised': 'chưa đồng bộ',
    unavailable: 'không có dịch vụ NTP',
  },
  server: { 'no-answer': 'chưa liên lạc được', answered: 'đã trả lời', rejected: 'giờ bị từ chối' },
  modem: {
    absent: 'không có modem',
    'no-answer': 'chưa trả lời',
    'no-network-time': 'chưa có giờ mạng',
    answered: 'đã có giờ mạng',
    rejected: 'giờ bị từ chối',
  },
} as const;

/** The technician's sentence for a clock that is waiting, in Vietnamese. */
export function waitingText(t: SourcesTried): string {
  return `Đang chờ đồng hồ tin cậy: đã thử NTP (${TRIED_VI.ntp[t.ntp]}), máy chủ (${TRIED_VI.server[t.server]}), modem (${TRIED_VI.modem[t.modem]})`;
}

/** The uncertainty given to a server time whose one-way delay is unknown. */
const UNKNOWN_DELAY_MS = 1000;

const PersistedSchema = z.strictObject({
  lastTrustedMs: z.number().int().nonnegative(),
  /** Which source set it (files from before this field count as the weakest source). */
  source: z.enum(['ntp', 'server', 'modem']).optional(),
});

export type ExecFn = (cmd: string, args: string[]) => Promise<string>;

const defaultExec: ExecFn = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 5000 }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });

export interface TrustedClockDeps {
  logger: Logger;
  /** Runs `timedatectl` (injectable for tests). */
  exec?: ExecFn;
  /** Reads the system and monotonic clocks (injectable for tests). */
  reading?: () => ClockReading;
}

/**
 * Agent time (trusted anchor + monotonic elapsed, never before the persisted time), whether it is
 * trusted, and the samples that make it so.
 */
export class TrustedClock extends Emitter<TrustedClockEvents> {
  private ts: ClockTrustState = {};
  private persistedMs: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  private ntpAvailable = true;
  private tried: SourcesTried;
  private readonly unsubscribe: (() => void)[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly exec: ExecFn;
  private readonly read: () => ClockReading;

  constructor(
    private readonly opts: TrustedClockOptions,
    deps: TrustedClockDeps,
  ) {
    super();
    this.tried = { ntp: 'not-asked', server: 'no-answer', modem: opts.modem ? 'no-answer' : 'absent' };
    this.log = deps.logger.child({ module: 'clock' });
    this.exec = deps.exec ?? defaultExec;
    this.read = deps.reading ?? (() => ({ wallMs: Date.now(), monoMs: performance.now() }));
  }

  private get file(): string {
    return join(this.opts.dataDir, 'clock.json');
  }

  async start(): Promise<void> {
    try {
      const parsed = PersistedSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      if (parsed.success) {
        this.ts = {
          lastTrustedMs: parsed.data.lastTrustedMs,
          ...(parsed.data.source ? { lastTrustedSource: parsed.data.source } : {}),
        };
        this.persistedMs = parsed.data.lastTrustedMs;
      } else this.log.warn({ code: 'CLOCK_STATE_CORRUPT' }, 'clock.json is malformed; starting without it');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn({ code: 'CLOCK_STATE_CORRUPT', err: e }, 'clock.json unreadable; starting without it');
    }
    const r = this.read();
    // Until a source is trusted, time runs on from the last trusted instant (not stands still).
    if (this.ts.lastTrustedMs !== undefined)
      this.ts = { ...this.ts, floor: { ms: this.ts.lastTrustedMs, monoMs: r.monoMs } };
    if (this.ts.lastTrustedMs !== undefined && r.wallMs < this.ts.lastTrustedMs)
      this.log.warn(
        {
          system: new Date(r.wallMs).toISOString(),
          lastTrusted: new Date(this.ts.lastTrustedMs).toISOString(),
        },
        'system clock is earlier than the last trusted time: holding the programme until time is trusted',
      );
    const ntpPoll = this.opts.ntpPollMs ?? 60_000;
    if (ntpPoll > 0) {
      await this.pollNtp();
      this.every(ntpPoll, () => this.pollNtp());
    }
    const modem = this.opts.modem;
    if (modem) {
      this.unsubscribe.push(
        modem.on('time', (reading) => {
          if (reading.trusted) this.readModem();
          else this.note('modem', 'no-network-time');
        }),
        modem.on('failure', () => this.note('modem', 'no-answer')),
        modem.on('status', (s) => {
          if (s.registration !== 'home' && s.registration !== 'roaming')
            this.note('modem', 'no-network-time');
        }),
      );
      this.readModem();
      this.every(this.opts.modemPollMs ?? 600_000, async () => this.readModem());
    }
    this.logWaiting();
    this.every(this.opts.checkpointMs ?? 60_000, () => this.checkpoint());
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.checkpoint();
    await this.writing;
  }

  now(): number {
    return agentNow(this.ts, this.read());
  }

  trusted(): boolean {
    return this.ts.anchor !== undefined;
  }

  /** The raw trust state (for tests and diagnostics). */
  trustState(): ClockTrustState {
    return this.ts;
  }

  state(): ClockState {
    return clockState(this.ts);
  }

  /**
   * The fleet server's time. With the round trip of a time request (rttMs), the sample is
   * serverTime + rtt/2 ± rtt/2; without one (a time carried by an ack or a notification) its
   * one-way delay is unknown, and it counts as ±1 s.
   */
  reportServerTime(timeMs: number, rttMs?: number): void {
    const ok =
      rttMs === undefined
        ? this.sample({ source: 'server', timeMs, uncertaintyMs: UNKNOWN_DELAY_MS })
        : this.sample({ source: 'server', timeMs: timeMs + rttMs / 2, uncertaintyMs: rttMs / 2 });
    this.note('server', ok || this.trusted() ? 'answered' : 'rejected');
  }

  /**
   * The creation time of a verified signed document (a bundle): while the clock is untrusted, the
   * agent's time is not earlier than it (the document was signed no earlier than it says). It
   * does not make the clock trusted: normal items still wait for a time source.
   */
  noteSignedTime(ms: number, what: string): void {
    const r = this.read();
    const next = raiseFloor(this.ts, ms, r);
    if (next === this.ts) return;
    const from = agentNow(this.ts, r);
    this.ts = next;
    this.log.info(
      { what, from: new Date(from).toISOString(), to: new Date(ms).toISOString() },
      'untrusted clock moved forward to the creation time of a signed document',
    );
  }

  /** What each source said last (for the log, health and the technician page). */
  sourcesTried(): SourcesTried {
    return { ...this.tried };
  }

  /** Why the clock is not trusted yet, in Vietnamese for the technician; undefined once trusted. */
  waiting(): string | undefined {
    return this.trusted() ? undefined : waitingText(this.tried);
  }

  /** A sample from any source (the modem supervisor may push instead of being polled). */
  sample(s: TimeSample): boolean {
    const r = this.read();
    const before = trustedNow(this.ts, r);
    const v = applySample(this.ts, s, r);
    if (!v.accepted) {
      this.log.debug({ source: s.source, reason: v.reason }, 'time sample not used');
      if (v.reason !== 'not-better')
        this.log.warn(
          { code: 'CLOCK_SAMPLE_REJECTED', source: s.source, reason: v.reason, time: s.timeMs },
          'time sample rejected',
        );
      return false;
    }
    this.ts = v.state;
    if (v.correctedBackMs !== undefined)
      this.log.warn(
        {
          code: 'CLOCK_CORRECTED_BACK',
          source: s.source,
          backMs: Math.round(v.correctedBackMs),
          time: new Date(s.timeMs).toISOString(),
        },
        'a better time source corrected the last trusted time backwards (a weaker source had set it ahead)',
      );
    const after = trustedNow(v.state, r) ?? 0;
    if (before === undefined) this.log.info({ source: s.source }, 'clock trusted');
    else if (Math.abs(after - before) > 1000)
      this.log.warn({ source: s.source, stepMs: after - before }, 'trusted time stepped');
    if (before === undefined || Math.abs(after - before) > 1000) {
      void this.persist();
      this.emit('change');
    }
    return true;
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }

  private async pollNtp(): Promise<void> {
    if (!this.ntpAvailable) return;
    try {
      const out = await this.exec('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
      const synced = out.trim() === 'yes';
      if (synced) this.sample({ source: 'ntp', timeMs: this.read().wallMs });
      this.note('ntp', synced ? 'synchronised' : 'not-synchronised');
    } catch (e) {
      // No systemd (containers, development machines): NTP state is unknown, other sources remain.
      this.ntpAvailable = false;
      this.note('ntp', 'unavailable');
      this.log.info({ err: (e as Error).message }, 'timedatectl unavailable: NTP sync state unknown');
    }
  }

  private readModem(): void {
    const t = this.opts.modem?.networkNow();
    if (!t) return;
    const ok = this.sample({ source: 'modem', timeMs: t.utcMs, uncertaintyMs: 1000 });
    this.note('modem', ok || this.trusted() ? 'answered' : 'rejected');
  }

  /** Records what a source said; while untrusted, a change is logged with every source tried. */
  private note<K extends keyof SourcesTried>(source: K, said: SourcesTried[K]): void {
    if (this.tried[source] === said) return;
    this.tried = { ...this.tried, [source]: said };
    this.logWaiting();
  }

  private logWaiting(): void {
    if (this.trusted()) return;
    const t = this.tried;
    this.log.warn(
      { code: 'CLOCK_WAITING', ntp: t.ntp, server: t.server, modem: t.modem },
      `waiting for a trusted clock: sources tried ntp=${t.ntp}, server=${t.server}, modem=${t.modem}`,
    );
  }

  private async checkpoint(): Promise<void> {
    this.ts = checkpoint(this.ts, this.read());
    await this.persist();
  }

  private persist(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const ms = this.ts.lastTrustedMs;
      if (ms === undefined || ms === this.persistedMs) return;
      try {
        const source = this.ts.lastTrustedSource;
        await writeFileAtomic(
          this.file,
          `${JSON.stringify({ lastTrustedMs: Math.floor(ms), ...(source ? { source } : {}) })}\n`,
          0o600,
        );
        this.persistedMs = ms;
      } catch (e) {
        this.log.error({ code: 'CLOCK_PERSIST_FAILED', err: e }, 'could not persist the last trusted time');
      }
    });
    return this.writing;
  }
}
