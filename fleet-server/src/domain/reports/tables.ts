/** The reports as export tables with Vietnamese headers (pure). */
import type { EffectivenessReport } from './effectiveness.js';
import type { Kpi } from './kpi.js';
import { formatDayVi, formatInstantVi } from './period.js';
import type { PlayLine } from './plays.js';
import type { Table } from './table.js';

const r4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);

/** One row per day, unit and output (what `loa stats` and spreadsheets read). */
export function dailyTable(rep: EffectivenessReport): Table {
  return {
    name: 'Theo ngày',
    columns: [
      { key: 'day', header: 'Ngày' },
      { key: 'unit', header: 'Mã đơn vị' },
      { key: 'name', header: 'Đơn vị' },
      { key: 'output', header: 'Đầu ra' },
      { key: 'planned', header: 'Theo kế hoạch', kind: 'number' },
      { key: 'done', header: 'Đã phát/hiển thị', kind: 'number' },
      { key: 'rate', header: 'Tỷ lệ', kind: 'percent' },
    ],
    rows: rep.daily.map((d) => [
      d.day,
      d.unit,
      d.unitName,
      d.outputName,
      d.planned,
      d.done,
      r4(d.planned ? d.done / d.planned : null),
    ]),
  };
}

export function unitsTable(rep: EffectivenessReport): Table {
  const rows = [...rep.units, rep.totals];
  return {
    name: 'Theo đơn vị',
    columns: [
      { key: 'unit', header: 'Mã đơn vị' },
      { key: 'name', header: 'Đơn vị' },
      { key: 'stations', header: 'Cụm loa', kind: 'number' },
      { key: 'noticeboards', header: 'Bảng tin', kind: 'number' },
      { key: 'audioPlanned', header: 'Lượt phát theo kế hoạch', kind: 'number' },
      { key: 'audioPlayed', header: 'Lượt đã phát', kind: 'number' },
      { key: 'audioRate', header: 'Tỷ lệ phát', kind: 'percent' },
      { key: 'displayPlanned', header: 'Lượt hiển thị theo kế hoạch', kind: 'number' },
      { key: 'displayDone', header: 'Lượt đã hiển thị', kind: 'number' },
      { key: 'displayRate', header: 'Tỷ lệ hiển thị', kind: 'percent' },
      { key: 'essentialShare', header: 'Tin thiết yếu đến được', kind: 'percent' },
      { key: 'uptime', header: 'Thời gian hoạt động', kind: 'percent' },
      { key: 'outages', header: 'Số lần mất kết nối', kind: 'number' },
      { key: 'faults', header: 'Sự cố', kind: 'number' },
      { key: 'failed', header: 'Lượt phát lỗi', kind: 'number' },
      { key: 'deadAir', header: 'Im lặng bất thường (phút)', kind: 'number' },
    ],
    rows: rows.map((u, i) => [
      u.unit,
      i === rows.length - 1 ? `Tổng cộng: ${u.unitName}` : u.unitName,
      u.stations,
      u.noticeboards,
      u.audio.planned,
      u.audio.done,
      r4(u.audio.rate),
      u.display.planned,
      u.display.done,
      r4(u.display.rate),
      r4(u.essential.share),
      r4(u.uptime.uptime),
      u.uptime.outages,
      u.faults,
      u.failedPlays,
      u.deadAirMinutes,
    ]),
  };
}

/**
 * Essential items grouped by content (a daily bulletin is one line for the period): how many
 * deliveries were due, how many were heard, and the stations that missed, with how often.
 */
export function essentialTable(rep: EffectivenessReport): Table {
  type Group = {
    first: string;
    last: string;
    title: string;
    priority: string;
    targeted: number;
    reached: number;
    missed: Map<string, number>;
  };
  const groups = new Map<string, Group>();
  for (const e of rep.essential.items) {
    const k = `${e.bundleId}|${e.entryId ?? ''}|${e.title}`;
    const g: Group = groups.get(k) ?? {
      first: e.at,
      last: e.at,
      title: e.title,
      priority: e.priorityName,
      targeted: 0,
      reached: 0,
      missed: new Map<string, number>(),
    };
    g.last = e.at;
    g.targeted += e.targeted;
    g.reached += e.reached;
    for (const m of e.missed) g.missed.set(m.name, (g.missed.get(m.name) ?? 0) + 1);
    groups.set(k, g);
  }
  return {
    name: 'Tin thiết yếu',
    columns: [
      { key: 'at', header: 'Thời gian' },
      { key: 'title', header: 'Nội dung' },
      { key: 'priority', header: 'Mức ưu tiên' },
      { key: 'targeted', header: 'Lượt cần phát', kind: 'number' },
      { key: 'reached', header: 'Lượt đã phát', kind: 'number' },
      { key: 'missed', header: 'Cụm không phát (số lần)' },
    ],
    rows: [...groups.values()].map((g) => [
      g.first === g.last
        ? formatInstantVi(g.first)
        : `${formatInstantVi(g.first)} – ${formatInstantVi(g.last)}`,
      g.title,
      g.priority,
      g.targeted,
      g.reached,
      [...g.missed]
        .sort((x, y) => y[1] - x[1])
        .map(([n, c]) => `${n} (${c})`)
        .join('; '),
    ]),
  };
}

export function airtimeTable(rep: EffectivenessReport): Table {
  return {
    name: 'Thời lượng',
    columns: [
      { key: 'by', header: 'Theo' },
      { key: 'name', header: 'Nhóm' },
      { key: 'minutes', header: 'Phút', kind: 'number' },
      { key: 'plays', header: 'Lượt', kind: 'number' },
    ],
    rows: [
      ...rep.airtime.byCategory.map((a) => ['Thể loại', a.name, a.minutes, a.plays] as const),
      ...rep.airtime.byLanguage.map((a) => ['Ngôn ngữ', a.name, a.minutes, a.plays] as const),
    ].map((r) => [...r]),
  };
}

export function faultsTable(rep: EffectivenessReport): Table {
  return {
    name: 'Sự cố',
    columns: [
      { key: 'name', header: 'Loại' },
      { key: 'faults', header: 'Sự cố', kind: 'number' },
      { key: 'brief', header: 'Cảnh báo ngắn (khởi động, thoáng qua)', kind: 'number' },
      { key: 'minutes', header: 'Tổng thời gian (phút)', kind: 'number' },
    ],
    rows: rep.faults.map((f) => [f.name, f.faults, f.brief, f.openMinutes]),
  };
}

/** The plan's indicators: figure, target, met, source. */
export function kpiTable(kpis: readonly Kpi[]): Table {
  return {
    name: 'Chỉ tiêu',
    columns: [
      { key: 'name', header: 'Chỉ tiêu' },
      { key: 'period', header: 'Kỳ' },
      { key: 'value', header: 'Kết quả', kind: 'number' },
      { key: 'target', header: 'Chỉ tiêu đặt ra', kind: 'number' },
      { key: 'met', header: 'Đạt' },
      { key: 'source', header: 'Nguồn số liệu' },
    ],
    rows: kpis.map((k) => [
      k.name,
      k.period,
      r4(k.value),
      k.target,
      k.met === null ? '—' : k.met ? 'Đạt' : 'Chưa đạt',
      k.source,
    ]),
  };
}

/** The indicators as printed (shares as "95,0%", counts as numbers), for the PDF report. */
export function kpiPrintTable(kpis: readonly Kpi[]): Table {
  const show = (k: Kpi, v: number | null) =>
    v === null
      ? 'chưa đo'
      : k.kind === 'share'
        ? `${(v * 100).toFixed(1).replace('.', ',')}%`
        : v.toLocaleString('vi-VN');
  return {
    name: 'Chỉ tiêu',
    columns: [
      { key: 'name', header: 'Chỉ tiêu' },
      { key: 'value', header: 'Kết quả' },
      { key: 'target', header: 'Chỉ tiêu đặt ra' },
      { key: 'met', header: 'Đánh giá' },
      { key: 'source', header: 'Nguồn số liệu' },
    ],
    rows: kpis.map((k) => [
      k.name,
      show(k, k.value),
      k.target === null ? '—' : show(k, k.target),
      k.met === null ? '—' : k.met ? 'Đạt' : 'Chưa đạt',
      k.source,
    ]),
  };
}

/** Staff still to train (the training indicator's list), when the unit keeps a staff register. */
export function trainingTable(rep: EffectivenessReport): Table | undefined {
  const t = rep.training;
  if (!t) return undefined;
  return {
    name: 'Cán bộ chưa bồi dưỡng',
    columns: [
      { key: 'unit', header: 'Mã đơn vị' },
      { key: 'id', header: 'Mã cán bộ' },
      { key: 'name', header: 'Họ và tên' },
      { key: 'position', header: 'Chức danh' },
    ],
    rows: t.untrained.map((s) => [s.unit, s.id, s.name, s.position]),
  };
}

export const effectivenessTables = (rep: EffectivenessReport, kpis?: readonly Kpi[]): Table[] => {
  const training = trainingTable(rep);
  return [
    ...(kpis ? [kpiTable(kpis)] : []),
    unitsTable(rep),
    dailyTable(rep),
    essentialTable(rep),
    airtimeTable(rep),
    faultsTable(rep),
    ...(training ? [training] : []),
  ];
};

export function playsTable(lines: readonly PlayLine[]): Table {
  return {
    name: 'Lượt phát',
    columns: [
      { key: 'at', header: 'Thời điểm' },
      { key: 'unitName', header: 'Đơn vị' },
      { key: 'deviceName', header: 'Cụm loa / bảng tin' },
      { key: 'output', header: 'Đầu ra' },
      { key: 'title', header: 'Nội dung' },
      { key: 'category', header: 'Thể loại' },
      { key: 'lang', header: 'Ngôn ngữ' },
      { key: 'priority', header: 'Mức ưu tiên' },
      { key: 'outcome', header: 'Kết quả' },
      { key: 'duration', header: 'Thời lượng (giây)', kind: 'number' },
      { key: 'lufs', header: 'Độ lớn (LUFS)', kind: 'number' },
      { key: 'eventId', header: 'Mã sự kiện' },
      { key: 'hash', header: 'Mã băm bằng chứng' },
    ],
    rows: lines.map((l) => [
      formatInstantVi(l.at),
      l.unitName,
      l.deviceName,
      l.outputName,
      l.title,
      l.categoryName,
      l.languageName,
      l.priorityName,
      l.outcomeName,
      l.durationSeconds,
      l.loudnessLufs,
      l.eventId,
      l.hash,
    ]),
  };
}

export { formatDayVi };
