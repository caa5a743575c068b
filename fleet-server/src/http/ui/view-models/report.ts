/**
 * Effectiveness report (pure): per unit and day scheduled vs played, airtime by category and
 * language, station uptime and alerts. Uptime is measured from "offline" alert intervals (cheap
 * and durable), not from rereading every health message.
 */
import type { Proof } from '@loa/protocol';
import type { AlertRecord, BundleRecord, DeviceRecord, UnitRecord } from '../../../domain/model.js';
import { vnDay, vnDayStart } from '../time.js';
import { targetedDevices } from './overview.js';
import {
  itemsByOutput,
  type Output,
  outputOfDevice,
  playedBySlot,
  slotKey,
  slotsForDay,
} from './programme.js';

export interface UnitDayRow {
  day: string;
  unit: string;
  unitName: string;
  /** Loudspeaker stations (audio) or noticeboards (display). */
  output: Output;
  scheduled: number;
  played: number;
}

export interface AirtimeRow {
  key: string;
  minutes: number;
  plays: number;
}

export interface UptimeRow {
  unit: string;
  unitName: string;
  devices: number;
  /** 0..1 */
  uptime: number;
  alerts: number;
}

export interface ReportVm {
  from: string;
  to: string;
  days: string[];
  rows: UnitDayRow[];
  totals: { scheduled: number; played: number };
  byCategory: AirtimeRow[];
  byLanguage: AirtimeRow[];
  uptime: UptimeRow[];
  alertsByRule: { rule: string; count: number }[];
}

/** Day keys from `from` to `to` inclusive (at most `max`). */
export function dayRange(from: string, to: string, max = 92): string[] | null {
  const a = vnDayStart(from);
  const b = vnDayStart(to);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b < a) return null;
  const n = Math.round((b - a) / 86_400_000) + 1;
  if (n > max) return null;
  return Array.from({ length: n }, (_, i) => vnDay(a + i * 86_400_000 + 3600_000));
}

function addAirtime(map: Map<string, AirtimeRow>, key: string, ms: number): void {
  const r = map.get(key) ?? { key, minutes: 0, plays: 0 };
  r.minutes += ms / 60_000;
  r.plays++;
  map.set(key, r);
}

export function buildReport(inp: {
  days: string[];
  units: ReadonlyMap<string, UnitRecord>;
  devices: readonly DeviceRecord[];
  bundles: readonly BundleRecord[];
  proofs: readonly Proof[];
  alerts: readonly AlertRecord[];
  nowMs: number;
}): ReportVm {
  const from = inp.days[0] as string;
  const to = inp.days.at(-1) as string;
  const rangeStart = vnDayStart(from);
  const rangeEnd = Math.min(vnDayStart(to) + 86_400_000, inp.nowMs);
  const unitOf = new Map(inp.devices.map((d) => [d.id, d.unit]));
  const name = (u: string) => inp.units.get(u)?.name ?? u;
  const played = playedBySlot(inp.proofs);

  const cells = new Map<string, UnitDayRow>();
  const cell = (day: string, unit: string, output: Output) => {
    const k = `${day}|${unit}|${output}`;
    let c = cells.get(k);
    if (!c) {
      c = { day, unit, unitName: name(unit), output, scheduled: 0, played: 0 };
      cells.set(k, c);
    }
    return c;
  };
  const published = inp.bundles.filter((b) => b.state === 'published' && !b.emergency);
  const targets = new Map(published.map((b) => [b.id, targetedDevices(b, inp.devices)]));
  for (const day of inp.days) {
    const start = vnDayStart(day);
    for (const b of published) {
      const devs = targets.get(b.id) ?? [];
      if (devs.length === 0) continue;
      for (const slot of slotsForDay(b.manifest, start)) {
        if (slot.at > inp.nowMs) continue; // not due yet
        const who = played.get(slotKey(slot.bundleId, slot.entryId, slot.at));
        const outputs = itemsByOutput(b.manifest, slot.itemIds);
        for (const d of devs) {
          const output = outputOfDevice(d.kind);
          if (!outputs.has(output)) continue; // e.g. a text bulletin on a loudspeaker station
          const c = cell(day, d.unit, output);
          c.scheduled++;
          if (who?.has(d.id)) c.played++;
        }
      }
    }
  }

  const items = new Map<string, { category?: string | undefined; lang: string }>();
  for (const b of inp.bundles)
    for (const it of b.manifest.items)
      items.set(`${b.id}|${it.id}`, { category: it.category, lang: it.lang });
  const byCat = new Map<string, AirtimeRow>();
  const byLang = new Map<string, AirtimeRow>();
  for (const p of inp.proofs) {
    if ((p.outcome !== 'completed' && p.outcome !== 'interrupted') || !p.startedAt || !p.endedAt) continue;
    const ms = Date.parse(p.endedAt) - Date.parse(p.startedAt);
    if (!(ms > 0)) continue;
    const it = p.bundleId && p.itemId ? items.get(`${p.bundleId}|${p.itemId}`) : undefined;
    addAirtime(byCat, it?.category ?? (p.priority === 'emergency' ? 'disaster' : 'other'), ms);
    addAirtime(byLang, it?.lang ?? '—', ms);
  }

  const devicesPerUnit = new Map<string, number>();
  for (const d of inp.devices)
    if (d.status === 'active') devicesPerUnit.set(d.unit, (devicesPerUnit.get(d.unit) ?? 0) + 1);
  const offlineMs = new Map<string, number>();
  const alertsPerUnit = new Map<string, number>();
  const byRule = new Map<string, number>();
  for (const a of inp.alerts) {
    const opened = Date.parse(a.openedAt);
    const closed = a.resolvedAt ? Date.parse(a.resolvedAt) : inp.nowMs;
    if (closed < rangeStart || opened >= rangeEnd) continue;
    const unit = unitOf.get(a.deviceId) ?? a.unit;
    if (opened >= rangeStart) {
      alertsPerUnit.set(unit, (alertsPerUnit.get(unit) ?? 0) + 1);
      byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
    }
    if (a.rule === 'offline') {
      const ms = Math.max(0, Math.min(closed, rangeEnd) - Math.max(opened, rangeStart));
      offlineMs.set(unit, (offlineMs.get(unit) ?? 0) + ms);
    }
  }
  const span = Math.max(1, rangeEnd - rangeStart);
  const uptime: UptimeRow[] = [...devicesPerUnit]
    .map(([unit, n]) => ({
      unit,
      unitName: name(unit),
      devices: n,
      uptime: Math.max(0, 1 - (offlineMs.get(unit) ?? 0) / (span * n)),
      alerts: alertsPerUnit.get(unit) ?? 0,
    }))
    .sort((a, b) => a.unit.localeCompare(b.unit));

  const rows = [...cells.values()].sort(
    (a, b) => a.day.localeCompare(b.day) || a.unit.localeCompare(b.unit) || a.output.localeCompare(b.output),
  );
  const totals = rows.reduce(
    (t, r) => ({ scheduled: t.scheduled + r.scheduled, played: t.played + r.played }),
    {
      scheduled: 0,
      played: 0,
    },
  );
  const sortAir = (m: Map<string, AirtimeRow>) => [...m.values()].sort((a, b) => b.minutes - a.minutes);
  return {
    from,
    to,
    days: inp.days,
    rows,
    totals,
    byCategory: sortAir(byCat),
    byLanguage: sortAir(byLang),
    uptime,
    alertsByRule: [...byRule].map(([rule, count]) => ({ rule, count })).sort((a, b) => b.count - a.count),
  };
}

/**
 * CSV (RFC 4180, UTF-8 with BOM so spreadsheet programs read Vietnamese correctly): one line per
 * day, unit and output (`outputLabel` names it, e.g. "Loa" / "Bảng tin").
 */
export function reportCsv(vm: ReportVm, header: string[], outputLabel: (o: Output) => string): string {
  const esc = (v: string | number) => {
    const s = String(v);
    // Neutralise spreadsheet formulas in text cells.
    const safe = typeof v === 'string' && /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [header.map(esc).join(',')];
  for (const r of vm.rows)
    lines.push(
      [
        r.day,
        r.unit,
        r.unitName,
        outputLabel(r.output),
        r.scheduled,
        r.played,
        r.scheduled ? (r.played / r.scheduled).toFixed(4) : '',
      ]
        .map(esc)
        .join(','),
    );
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
