/**
 * Periodic reports: generated on demand or on a schedule (the previous quarter and year, early in
 * the next), rendered as PDF (administrative layout), XLSX and CSV, archived under the data
 * directory (crash-safe writes) with a record in the store, and served again from the archive.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, globalTimers, LoaError, type Timers } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { withDefaults } from '../defaults.js';
import { lowerFirst, namedPeriod, vnDay } from '../domain/reports/period.js';
import {
  headerOf,
  nextSeq,
  type PeriodicReport,
  periodsDue,
  reportNumber,
} from '../domain/reports/periodic.js';
import { toCsv } from '../domain/reports/table.js';
import {
  airtimeTable,
  dailyTable,
  effectivenessTables,
  essentialTable,
  faultsTable,
  kpiPrintTable,
  trainingTable,
  unitsTable,
} from '../domain/reports/tables.js';
import type { Store } from '../store/ports.js';
import { toXlsx } from './report-files.js';
import { effectivenessSections, reportPdf } from './report-pdf.js';
import type { ReportService } from './report-service.js';

export const PERIODIC_DEFAULTS = {
  /** How often the schedule looks for reports it owes (ms). */
  checkMs: 3600_000,
};

export type ReportFormat = 'pdf' | 'xlsx' | 'csv';

export interface PeriodicReportsOptions {
  store: Store;
  reports: ReportService;
  clock: Clock;
  logger: Logger;
  /** Archive directory (the server's data dir + /reports). */
  dir: string;
  timers?: Timers;
  checkMs?: number;
}

export class PeriodicReports {
  readonly #o: PeriodicReportsOptions;
  readonly #timers: Timers;
  #timer: unknown;
  #running: Promise<void> = Promise.resolve();
  #stopped = true;

  constructor(o: PeriodicReportsOptions) {
    this.#o = o;
    this.#timers = o.timers ?? globalTimers;
  }

  /** Generates, archives and records the report of `unit` for `period` ("2026-Q4", "2026"). */
  async generate(unit: string, periodName: string, by: string): Promise<PeriodicReport> {
    const { store, clock } = this.#o;
    const period = namedPeriod(periodName);
    const u = await store.units.get(unit);
    if (!u) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`);
    const parent = u.parent ? await store.units.get(u.parent) : undefined;
    const rep = await this.#o.reports.effectiveness({ unit, period, groupBy: 'children' });
    const now = clock.now();
    const day = vnDay(now);
    const existing = await store.periodicReports.list((r) => r.unit === unit);
    const seq = nextSeq(existing, unit, day.slice(0, 4));
    const number = reportNumber(seq);
    const id = `${unit.replace(/\//g, '-')}-${periodName}-${day.slice(0, 4)}-${String(seq).padStart(2, '0')}`;
    const header = headerOf(u, parent);
    const kpis = await this.#o.reports.kpis(rep);
    const training = trainingTable(rep);
    const tables = {
      units: unitsTable(rep),
      essential: essentialTable(rep),
      airtime: airtimeTable(rep),
      faults: faultsTable(rep),
      kpi: kpiPrintTable(kpis),
      ...(training ? { training } : {}),
    };
    const pdf = await reportPdf(
      {
        ...header,
        number,
        day,
        title: 'BÁO CÁO',
        subtitle: `Kết quả hoạt động thông tin cơ sở ${lowerFirst(rep.period.name)}`,
      },
      effectivenessSections(rep, tables),
    );
    const xlsx = await toXlsx(effectivenessTables(rep, kpis), {
      title: `Báo cáo ${rep.unitName} ${rep.period.name}`,
    });
    const csv = Buffer.from(toCsv(dailyTable(rep)), 'utf8');
    await mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
    const files: PeriodicReport['files'] = {};
    for (const [fmt, data] of [
      ['pdf', pdf],
      ['xlsx', xlsx],
      ['csv', csv],
    ] as const) {
      const name = `${id}.${fmt}`;
      await writeFileAtomic(join(this.#o.dir, name), data, { mode: 0o600 });
      files[fmt] = { name, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
    }
    const record: PeriodicReport = {
      id,
      unit,
      unitName: u.name,
      period: periodName,
      periodName: rep.period.name,
      from: period.from,
      to: period.to,
      seq,
      number,
      day,
      generatedAt: new Date(now).toISOString(),
      generatedBy: by,
      files,
      summary: {
        audioRate: rep.totals.audio.rate,
        displayRate: rep.totals.display.rate,
        essentialShare: rep.totals.essential.share,
        uptime: rep.totals.uptime.uptime,
        faults: rep.totals.faults,
        staffTrained: rep.training?.share ?? null,
      },
    };
    await store.periodicReports.insert(record);
    return record;
  }

  /** An archived file, checked against its recorded hash. */
  async file(r: PeriodicReport, format: ReportFormat): Promise<Buffer> {
    const f = r.files[format];
    if (!f) throw new LoaError('REPORT_FILE_NOT_FOUND', `báo cáo ${r.number} không có tệp ${format}`);
    const data = await readFile(join(this.#o.dir, f.name)).catch((cause) => {
      throw new LoaError('REPORT_FILE_NOT_FOUND', `không đọc được tệp lưu trữ ${f.name}`, { cause });
    });
    if (createHash('sha256').update(data).digest('hex') !== f.sha256)
      throw new LoaError('REPORT_FILE_DAMAGED', `tệp lưu trữ ${f.name} không khớp mã băm đã ghi`);
    return data;
  }

  /** The reports the schedule owes today and has not made yet: province roots and their communes. */
  async runSchedule(): Promise<PeriodicReport[]> {
    const due = periodsDue(vnDay(this.#o.clock.now()));
    if (due.length === 0) return [];
    const roots = await this.#o.store.units.children(null);
    const units = [
      ...roots,
      ...(await Promise.all(roots.map((r) => this.#o.store.units.children(r.path)))).flat(),
    ];
    const made: PeriodicReport[] = [];
    for (const period of due)
      for (const u of units) {
        const have = await this.#o.store.periodicReports.count(
          (r) => r.unit === u.path && r.period === period && r.generatedBy === 'schedule',
        );
        if (have > 0) continue;
        try {
          made.push(await this.generate(u.path, period, 'schedule'));
        } catch (err) {
          this.#o.logger.error({ err, unit: u.path, period }, 'scheduled report failed');
        }
      }
    return made;
  }

  start(): void {
    this.#stopped = false;
    const every = withDefaults(PERIODIC_DEFAULTS, this.#o).checkMs;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runSchedule()
        .then(() => undefined)
        .catch((err) => this.#o.logger.error({ err }, 'report schedule failed'));
      this.#timer = this.#timers.setTimeout(tick, every);
      (this.#timer as { unref?: () => void } | undefined)?.unref?.();
    };
    this.#timer = this.#timers.setTimeout(tick, 60_000);
    (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    await this.#running;
  }
}
