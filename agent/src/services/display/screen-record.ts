/**
 * What the screen really showed, from the page's own reports: turns "first frame painted" and
 * "render error" reports into signed proofs (`kind: display`) and answers `GET /kiosk/now`.
 * A report is only believed for a key the agent itself sent to the page.
 */
import type { RelayState } from '@loa/protocol';
import type { Logger } from 'pino';
import type { EmergencyOverlay, Frame, OnScreen } from '../../domain/display/types.js';
import type { ProofDraft, ProofSink } from '../playback/ports.js';

/** A frame or overlay sent to the page, and what became of it. */
interface Sent {
  layer: 'main' | 'emergency';
  frame?: Frame;
  overlay?: EmergencyOverlay;
  shownAt?: number;
  failed?: { code: string; message: string };
  closed?: boolean;
}

export interface ScreenRecordOptions {
  proofs: ProofSink;
  relays: () => RelayState;
  clockTrusted: () => boolean;
  logger: Logger;
  /** A render error or another alert from the page (health, technician page). */
  onAlert: (code: string, message: string) => void;
}

const KEEP_SENT = 32;

export class ScreenRecord {
  private readonly sent = new Map<string, Sent>();
  private main: Sent | undefined;
  private emergency: Sent | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: ScreenRecordOptions) {}

  /** The frame the agent now sends; closes the one before (completed or interrupted). */
  sentFrame(frame: Frame | null, now: number): void {
    if (this.main?.frame?.key === (frame?.key ?? undefined)) return;
    if (this.main) this.close(this.main, now);
    this.main = frame ? { layer: 'main', frame } : undefined;
    if (this.main && frame) this.remember(frame.key, this.main);
  }

  sentOverlay(overlay: EmergencyOverlay | null, now: number): void {
    if (this.emergency?.overlay?.key === (overlay?.key ?? undefined)) return;
    if (this.emergency) this.close(this.emergency, now);
    this.emergency = overlay ? { layer: 'emergency', overlay } : undefined;
    if (this.emergency && overlay) this.remember(overlay.key, this.emergency);
  }

  /** The page painted the first frame of `key` at `at` (page clock = system clock, in ms). */
  rendered(layer: 'main' | 'emergency', key: string, at: number): boolean {
    const s = this.sent.get(key);
    if (!s || s.layer !== layer || s.shownAt !== undefined || s.closed) return false;
    s.shownAt = at;
    this.record(s, 'started', at);
    return true;
  }

  failed(layer: 'main' | 'emergency', key: string, code: string, message: string, at: number): boolean {
    const s = this.sent.get(key);
    if (!s || s.layer !== layer || s.failed) return false;
    s.failed = { code, message };
    // The fallback card is what the screen shows instead.
    s.shownAt = at;
    this.record(s, 'failed', at, at, `${code}: ${message}`);
    this.o.onAlert(code, `${this.itemLabel(s)}: ${message}`);
    return true;
  }

  onScreen(): OnScreen | null {
    const pick = (s: Sent | undefined): OnScreen | null => {
      if (!s || s.shownAt === undefined) return null;
      const out: OnScreen = {
        kind: s.overlay ? 'emergency' : s.failed ? 'fallback' : (s.frame?.kind ?? 'text'),
        since: new Date(s.shownAt).toISOString(),
      };
      const bundleId = s.frame?.bundleId ?? s.overlay?.bundleId;
      const itemId = s.frame?.itemId ?? s.overlay?.itemId;
      if (bundleId !== undefined) out.bundleId = bundleId;
      if (itemId !== undefined) out.itemId = itemId;
      return out;
    };
    return pick(this.emergency) ?? pick(this.main);
  }

  /** Waits for the proofs being written. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private remember(key: string, s: Sent): void {
    this.sent.set(key, s);
    while (this.sent.size > KEEP_SENT) {
      const oldest = this.sent.keys().next().value as string;
      this.sent.delete(oldest);
    }
  }

  private close(s: Sent, now: number): void {
    s.closed = true;
    if (s.shownAt === undefined || s.failed) return;
    const end = s.frame?.end;
    const outcome = s.overlay || end === undefined || now >= end - 1000 ? 'completed' : 'interrupted';
    this.record(s, outcome, s.shownAt, now);
  }

  private itemLabel(s: Sent): string {
    return `${s.frame?.bundleId ?? s.overlay?.bundleId ?? '-'}/${s.frame?.itemId ?? s.overlay?.itemId ?? '-'}`;
  }

  private record(
    s: Sent,
    outcome: ProofDraft['outcome'],
    startedAt: number,
    endedAt?: number,
    reason?: string,
  ) {
    const f = s.frame;
    const o = s.overlay;
    const d: ProofDraft = {
      kind: 'display',
      outcome,
      itemId: f?.itemId ?? o?.itemId ?? 'unknown',
      entryId: f?.entryId ?? 'emergency-overlay',
      priority: o ? 'emergency' : (f?.priorityClass ?? 'normal'),
      startedAt: new Date(startedAt).toISOString(),
      relays: this.o.relays(),
      clockTrusted: this.o.clockTrusted(),
    };
    if (f) d.scheduledAt = new Date(f.scheduledAt).toISOString();
    if (endedAt !== undefined) d.endedAt = new Date(endedAt).toISOString();
    const bundleId = f?.bundleId ?? o?.bundleId;
    if (bundleId) d.bundleId = bundleId;
    if (f?.channel) d.channel = f.channel;
    if (f?.bundleVersion) d.bundleVersion = f.bundleVersion;
    if (f?.contentSha256) d.contentSha256 = f.contentSha256;
    if (reason) d.reason = reason.slice(0, 500);
    const p = this.o.proofs.record(d).catch((err: unknown) => {
      this.o.logger.error(
        { err, code: 'PROOF_RECORD_FAILED', outcome, item: d.itemId },
        'display proof not recorded',
      );
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
