/**
 * Agent self-update: a signed release (role `release`) announced on `d/{id}/release` is
 * verified against the trust policy, its artifact downloaded and checked against the signed
 * SHA-256, extracted beside the running release, put on trial and switched to (see
 * release-dir.ts); then the agent exits and systemd starts the new version. The new version
 * confirms itself once it is up and has reported to the server (health sent on a live link)
 * before its deadline; otherwise the release supervisor puts the previous one back. Progress
 * goes to the server as rollout statuses on the `agent` channel (notified → downloading →
 * verified → active → playing, or failed with a code), so the server's rollout records serve.
 */
import { join } from 'node:path';
import {
  type Clock,
  DEFAULT_READY_DEADLINE_S,
  type DeviceIdentity,
  LoaError,
  RELEASE_CHANNEL,
  type Release,
  type ReleaseNotify,
  type Status,
  type TrustPolicy,
  verifyRelease,
} from '@loa/protocol';
import type { Logger } from 'pino';
import { Emitter } from '../../events.js';
import { type HttpFetch, httpFetch } from '../../http/client.js';
import { downloadBlob } from '../content/blob-download.js';
import { ensureDir } from './data-dir.js';
import type { ReleaseDir, RunningRelease } from './release-dir.js';

export interface SelfUpdateOptions {
  releases: ReleaseDir;
  trust: () => TrustPolicy | undefined;
  device: () => DeviceIdentity | undefined;
  clock: Clock;
  logger: Logger;
  fetch?: HttpFetch;
  headers?: () => Record<string, string>;
  /**
   * Sends a status to the server and resolves true once it is acknowledged (the fleet link's
   * reportStatus: health, then the status at QoS 1); false when offline.
   */
  report: (s: Status) => Promise<boolean>;
  /** Ends the process so that systemd starts the new release (default: SIGTERM to self). */
  restart?: () => void;
  /** Reports an error in health. */
  reportError?: (code: string, message: string) => void;
  /** Starts a new release gets before the supervisor rolls it back (default 3). */
  maxStarts?: number;
  /** How often the trial checks whether it has reported (default 5 s). */
  confirmEveryMs?: number;
}

interface SelfUpdateEvents extends Record<string, unknown> {
  status: Status;
  confirmed: RunningRelease;
}

export class SelfUpdate extends Emitter<SelfUpdateEvents> {
  private readonly log: Logger;
  private running: RunningRelease = { name: '' };
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private rollbackNoted = false;

  constructor(private readonly o: SelfUpdateOptions) {
    super();
    this.log = o.logger.child({ module: 'self-update' });
  }

  /** The release this process runs (read at start). */
  current(): RunningRelease {
    return this.running;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await ensureDir(this.o.releases.root, 0o755);
    this.running = await this.o.releases.running();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => void this.check().finally(() => this.tick()),
      this.o.confirmEveryMs ?? 5000,
    );
    this.timer.unref?.();
  }

  /** Confirms a trial once reported; reports a rollback once the link is up. */
  async check(): Promise<void> {
    const trial = await this.o.releases.trial();
    const r = this.running.release;
    if (trial && r && trial.version === this.running.name) {
      if (this.o.clock.now() / 1000 > trial.deadline) return; // the supervisor will roll it back
      if (!(await this.o.report(this.statusOf(r, 'playing')).catch(() => false))) return;
      await this.o.releases.confirm();
      this.log.info({ version: trial.version }, 'release confirmed');
      this.emit('confirmed', this.running);
    }
    const rb = await this.o.releases.lastRollback();
    if (rb && !this.rollbackNoted) {
      this.rollbackNoted = true;
      this.o.reportError?.(
        'UPDATE_ROLLED_BACK',
        `Phiên bản ${rb.version} không khởi động được (${rb.reason}); đã quay lại ${rb.restored}`,
      );
    }
    if (rb) {
      const failed: Status = {
        bundleId: rb.id || `agent-${rb.version}`,
        channel: RELEASE_CHANNEL,
        version: rb.release || 1,
        state: 'failed',
        reason: 'UPDATE_ROLLED_BACK',
        message: `${rb.reason}: ${rb.version} → ${rb.restored}`,
        at: new Date(this.o.clock.now()).toISOString(),
      };
      if (await this.o.report(failed).catch(() => false)) await this.o.releases.rollbackReported();
    }
  }

  private statusOf(r: Release, state: Status['state'], extra: Partial<Status> = {}): Status {
    return {
      bundleId: r.id,
      channel: r.channel,
      version: r.version,
      state,
      ...extra,
      at: new Date(this.o.clock.now()).toISOString(),
    };
  }

  private emitStatus(r: Release, state: Status['state'], extra: Partial<Status> = {}): void {
    this.emit('status', this.statusOf(r, state, extra));
  }

  /** Installs an announced release and restarts into it. Resolves false when refused. */
  async handle(n: ReleaseNotify): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    const r = n.release;
    try {
      const trust = this.o.trust();
      if (!trust) throw new LoaError('TRUST_MISSING', 'no trust policy installed yet');
      const device = this.o.device();
      verifyRelease(r, {
        trust,
        now: new Date(this.o.clock.now()),
        ...(device ? { device } : {}),
        installedVersion: this.running.release?.version ?? 0,
      });
      if ((await this.o.releases.trial())?.version === this.running.name)
        throw new LoaError('UPDATE_IN_TRIAL', 'the running release is still on trial');
      this.emitStatus(r, 'downloading', { bytes: 0, totalBytes: r.artifact.size });
      const incoming = join(this.o.releases.root, '.incoming');
      await ensureDir(incoming, 0o755);
      const file = join(incoming, `${r.artifact.sha256}.tar.gz`);
      await downloadBlob(n.artifactUrl, `${file}.part`, file, r.artifact, {
        fetch: this.o.fetch ?? httpFetch,
        idleTimeoutMs: 30_000,
        attempts: 6,
        backoffMs: 1000,
        logger: this.log,
        ...(this.o.headers ? { headers: this.o.headers } : {}),
      });
      await this.o.releases.install(r, file);
      this.emitStatus(r, 'verified');
      const deadline = Math.floor(this.o.clock.now() / 1000) + (r.readyDeadlineS ?? DEFAULT_READY_DEADLINE_S);
      await this.o.releases.switchTo(r, deadline, this.o.maxStarts ?? 3);
      this.emitStatus(r, 'active');
      this.log.warn({ from: this.running.name, to: r.agentVersion }, 'switching to a new agent release');
      await this.o.releases.prune(new Set([r.agentVersion, this.running.name]));
      (this.o.restart ?? (() => process.kill(process.pid, 'SIGTERM')))();
      return true;
    } catch (e) {
      const code = (e as LoaError).code ?? 'UPDATE_FAILED';
      const message = (e as Error).message.slice(0, 400);
      this.log.warn({ code, message, release: r.id }, 'release refused');
      this.o.reportError?.(code, message);
      this.emitStatus(r, 'failed', { reason: code.slice(0, 64), message });
      return false;
    } finally {
      this.busy = false;
    }
  }
}
