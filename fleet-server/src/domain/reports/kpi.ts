/**
 * The plan's indicators against its targets (pure): for a unit and a period, each figure with its
 * target and where it comes from. What Loa cannot measure yet is listed with no figure and says
 * why, rather than left out.
 */
import type { DeviceRecord, UnitRecord } from '../model.js';
import type { RegisterEntry } from '../register.js';
import type { EffectivenessReport } from './effectiveness.js';

export const KPI_DEFAULTS = {
  /** The plan (2025): 100 % of essential information reaches people. */
  essentialTarget: 1,
  /** The province's own target for the share of planned broadcasts played (edit per plan). */
  playedTarget: 0.95,
  /** The province's own target for station uptime (edit per plan). */
  uptimeTarget: 0.95,
  /** The plan: at least one public e-noticeboard per commune. */
  noticeboardCoverageTarget: 1,
  /** The plan: 100 % of grassroots information staff trained. */
  staffTrainedTarget: 1,
};

export interface Kpi {
  key: string;
  name: string;
  period: string;
  /** The figure (a share 0..1 or a count), null when not measured. */
  value: number | null;
  target: number | null;
  kind: 'share' | 'count';
  /** true/false against the target, null without a figure or a target. */
  met: boolean | null;
  source: string;
}

const share = (a: number, b: number) => (b > 0 ? a / b : null);

export function computeKpis(inp: {
  report: EffectivenessReport;
  /** Communes (units with no children) under the report's unit. */
  communes: readonly UnitRecord[];
  devices: readonly DeviceRecord[];
  register: readonly RegisterEntry[];
  targets?: Partial<typeof KPI_DEFAULTS>;
}): Kpi[] {
  const t = { ...KPI_DEFAULTS, ...inp.targets };
  const r = inp.report;
  const period = r.period.name;
  const row = (k: Omit<Kpi, 'met' | 'period'>): Kpi => ({
    ...k,
    period,
    met: k.value === null || k.target === null ? null : k.value >= k.target,
  });
  const boards = new Set<string>();
  for (const d of inp.devices) if (d.kind === 'noticeboard' && d.status === 'active') boards.add(d.unit);
  for (const e of inp.register)
    if ((e.type === 'noticeboard-led' || e.type === 'noticeboard-lcd') && e.condition !== 'broken')
      boards.add(e.unit);
  const covered = inp.communes.filter((c) => boards.has(c.path)).length;
  const legacy = inp.register.filter((e) => e.type === 'fm-cluster' || e.type === 'wired-cluster');
  return [
    row({
      key: 'essential-reached',
      name: 'Thông tin thiết yếu (ưu tiên, khẩn cấp) đến được người dân',
      value: r.totals.essential.share,
      target: t.essentialTarget,
      kind: 'share',
      source: `Xác nhận phát có chữ ký số: ${r.totals.essential.reached}/${r.totals.essential.targeted} lượt cụm loa cần nhận`,
    }),
    row({
      key: 'planned-played',
      name: 'Lượt phát theo kế hoạch đã phát trên loa',
      value: r.totals.audio.rate,
      target: t.playedTarget,
      kind: 'share',
      source: `Xác nhận phát có chữ ký số: ${r.totals.audio.done}/${r.totals.audio.planned} lượt; chỉ tiêu do tỉnh đặt`,
    }),
    row({
      key: 'planned-displayed',
      name: 'Lượt hiển thị theo kế hoạch trên bảng tin điện tử',
      value: r.totals.display.rate,
      target: t.playedTarget,
      kind: 'share',
      source: `Xác nhận hiển thị có chữ ký số: ${r.totals.display.done}/${r.totals.display.planned} lượt; chỉ tiêu do tỉnh đặt`,
    }),
    row({
      key: 'uptime',
      name: 'Thời gian hoạt động của cụm loa, bảng tin',
      value: r.totals.uptime.uptime,
      target: t.uptimeTarget,
      kind: 'share',
      source: `Kết nối của thiết bị với máy chủ: ${r.totals.uptime.onlineHours.toLocaleString('vi-VN')}/${r.totals.uptime.knownHours.toLocaleString('vi-VN')} giờ quan sát; chỉ tiêu do tỉnh đặt`,
    }),
    row({
      key: 'noticeboard-coverage',
      name: 'Xã, phường có bảng tin điện tử công cộng',
      value: share(covered, inp.communes.length),
      target: t.noticeboardCoverageTarget,
      kind: 'share',
      source: `Thiết bị đăng ký và sổ thiết bị: ${covered}/${inp.communes.length} xã, phường`,
    }),
    row({
      key: 'legacy-to-replace',
      name: 'Cụm loa FM, có dây cần thay thế (hỏng hoặc dự kiến thay)',
      value: legacy.filter((e) => e.replacement === 'planned' || e.condition === 'broken').length,
      target: null,
      kind: 'count',
      source: `Sổ thiết bị: ${legacy.length} cụm loa FM, có dây được ghi sổ`,
    }),
    row({
      key: 'staff-trained',
      name: 'Cán bộ làm công tác thông tin cơ sở được bồi dưỡng',
      value: r.training?.share ?? null,
      target: t.staffTrainedTarget,
      kind: 'share',
      source: r.training
        ? r.training.source
        : 'Chưa đo: đơn vị chưa ghi sổ cán bộ làm công tác thông tin cơ sở',
    }),
  ];
}
