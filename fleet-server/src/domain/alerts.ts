/**
 * Alert rules as pure functions of a device's live state and the time, plus the alert life
 * cycle open → acknowledged → resolved. Messages are Vietnamese (operator-facing).
 */
import { LoaError } from '@loa/protocol';
import type { DeviceLiveState } from './ingest.js';

export const ALERT_KINDS = [
  'offline',
  'amp-fault',
  'mains-lost',
  'door-open',
  'weak-signal',
  'clock-untrusted',
  'dead-air',
  'playback-failed',
  'disk-low',
  'proof-chain',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = 'critical' | 'warning' | 'info';
export type AlertState = 'open' | 'acknowledged' | 'resolved';

export interface AlertRulesConfig {
  /** A device offline longer than this raises "offline". */
  offlineMinutes: number;
  /** Signal at or below this (dBm) is weak. */
  weakSignalDbm: number;
  /** Free disk below this (MB) is low. */
  diskLowMb: number;
  /** A health report older than this (minutes) no longer drives sensor alerts. */
  staleHealthMinutes: number;
  /**
   * After a (re)boot, conditions that a starting station normally shows for a while (inputs not
   * yet read, clock not yet synchronised, modem still registering) open an alert only if they
   * still hold this long after boot: a fleet restart must not bury the operator in alerts.
   */
  bootGraceSeconds: number;
}

export const DEFAULT_ALERT_RULES: AlertRulesConfig = {
  offlineMinutes: 10,
  weakSignalDbm: -105,
  diskLowMb: 200,
  staleHealthMinutes: 30,
  bootGraceSeconds: 300,
};

/** Conditions a booting station normally shows for a while (see bootGraceSeconds). */
const BOOT_TRANSIENT: ReadonlySet<AlertKind> = new Set([
  'mains-lost',
  'clock-untrusted',
  'door-open',
  'weak-signal',
]);

export interface AlertCondition {
  rule: AlertKind;
  severity: AlertSeverity;
  message: string;
}

export interface Alert {
  id: string;
  deviceId: string;
  unit: string;
  rule: string;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
}

/** Which conditions hold for a device right now. */
export function evaluateAlerts(s: DeviceLiveState, nowMs: number, cfg: AlertRulesConfig): AlertCondition[] {
  const out: AlertCondition[] = [];
  if (!s.online) {
    const since = s.offlineSinceMs ?? s.lastSeenMs;
    const minutes = (nowMs - since) / 60_000;
    if (minutes > cfg.offlineMinutes)
      out.push({
        rule: 'offline',
        severity: 'critical',
        message: `Mất kết nối hơn ${Math.floor(minutes)} phút`,
      });
  }
  const h = s.health;
  const fresh = h && s.healthAtMs !== undefined && nowMs - s.healthAtMs <= cfg.staleHealthMinutes * 60_000;
  if (h && fresh) {
    if (h.inputs.ampFault === true)
      out.push({ rule: 'amp-fault', severity: 'critical', message: 'Bộ khuếch đại báo lỗi' });
    if (h.inputs.mains === false)
      out.push({
        rule: 'mains-lost',
        severity: 'warning',
        message: 'Mất điện lưới, đang chạy nguồn dự phòng',
      });
    if (h.inputs.door === 'open')
      out.push({ rule: 'door-open', severity: 'warning', message: 'Cửa tủ thiết bị đang mở' });
    const rssi = h.modem?.rssiDbm;
    if (typeof rssi === 'number' && rssi <= cfg.weakSignalDbm)
      out.push({ rule: 'weak-signal', severity: 'info', message: `Sóng di động yếu (${rssi} dBm)` });
    if (!h.clock.trusted)
      out.push({
        rule: 'clock-untrusted',
        severity: 'warning',
        message: 'Đồng hồ thiết bị chưa được xác thực',
      });
    if (h.deadAir === true)
      out.push({
        rule: 'dead-air',
        severity: 'critical',
        message: 'Đang phát nhưng không có âm thanh (im lặng)',
      });
    if (typeof h.diskFreeMb === 'number' && h.diskFreeMb < cfg.diskLowMb)
      out.push({
        rule: 'disk-low',
        severity: 'warning',
        message: `Dung lượng trống thấp (${Math.round(h.diskFreeMb)} MB)`,
      });
  }
  if (h && s.healthAtMs !== undefined) {
    const uptimeNowS = h.uptimeS + (nowMs - s.healthAtMs) / 1000;
    if (uptimeNowS < cfg.bootGraceSeconds) {
      const kept = out.filter((c) => !BOOT_TRANSIENT.has(c.rule));
      out.length = 0;
      out.push(...kept);
    }
  }
  if (s.lastFailedPlaybackMs !== undefined && (s.lastGoodPlaybackMs ?? 0) < s.lastFailedPlaybackMs)
    out.push({
      rule: 'playback-failed',
      severity: 'warning',
      message: `Phát thất bại${s.lastProof?.reason ? `: ${s.lastProof.reason}` : ''}`,
    });
  if (s.proofsRejected > 0)
    out.push({
      rule: 'proof-chain',
      severity: 'critical',
      message: `Có ${s.proofsRejected} bằng chứng phát bị từ chối (chữ ký hoặc chuỗi không hợp lệ)`,
    });
  return out;
}

export interface AlertChanges {
  opened: Alert[];
  resolved: Alert[];
}

/**
 * Reconciles a device's active (open or acknowledged) alerts with the conditions that hold now:
 * a new condition opens an alert, a condition that no longer holds resolves its alert.
 */
export function reconcileAlerts(
  active: readonly Alert[],
  device: { deviceId: string; unit: string },
  conditions: readonly AlertCondition[],
  now: Date,
  newId: () => string,
): AlertChanges {
  const at = now.toISOString();
  const holding = new Map<string, AlertCondition>(conditions.map((c) => [c.rule, c] as const));
  const opened: Alert[] = [];
  const resolved: Alert[] = [];
  const activeKinds = new Set<string>();
  for (const a of active) {
    if (a.deviceId !== device.deviceId || a.state === 'resolved') continue;
    activeKinds.add(a.rule);
    if (!holding.has(a.rule)) resolved.push({ ...a, state: 'resolved', resolvedAt: at });
  }
  for (const c of conditions) {
    if (activeKinds.has(c.rule)) continue;
    opened.push({
      id: newId(),
      deviceId: device.deviceId,
      unit: device.unit,
      rule: c.rule,
      severity: c.severity,
      state: 'open',
      message: c.message,
      openedAt: at,
    });
  }
  return { opened, resolved };
}

/** An operator acknowledges an open alert (it stays active until its condition clears). */
export function acknowledgeAlert(a: Alert, user: string, now: Date): Alert {
  if (a.state === 'resolved')
    throw new LoaError('ALERT_RESOLVED_CONFLICT', 'Cảnh báo đã được giải quyết, không cần xác nhận', {
      details: { id: a.id },
    });
  if (a.state === 'acknowledged') return a;
  return { ...a, state: 'acknowledged', acknowledgedAt: now.toISOString(), acknowledgedBy: user };
}
