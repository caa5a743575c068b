/**
 * The report API: what played where and when (`/reports/plays`) and effectiveness per unit and
 * period (`/reports/effectiveness`), as JSON, CSV or XLSX (`format=` or the Accept header).
 */
import { LoaError, ProofOutcomeSchema } from '@loa/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { ALL_UNITS, requireScope } from '../../domain/rbac.js';
import { lowerFirst, namedPeriod, type Period, periodOf, vnDay } from '../../domain/reports/period.js';
import { headerOf } from '../../domain/reports/periodic.js';
import { type Table, toCsv } from '../../domain/reports/table.js';
import {
  airtimeTable,
  dailyTable,
  effectivenessTables,
  essentialTable,
  faultsTable,
  kpiPrintTable,
  playsTable,
  trainingTable,
  unitsTable,
} from '../../domain/reports/tables.js';
import { toXlsx } from '../../services/report-files.js';
import { effectivenessSections, reportPdf } from '../../services/report-pdf.js';
import type { ReportService } from '../../services/report-service.js';
import type { AuthUser } from '../auth.js';
import { EffectivenessSchema, PlaysSchema } from '../report-schemas.js';
import type { RouteContext } from '../route-context.js';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD');
const Format = z.enum(['json', 'csv', 'xlsx', 'pdf']);
const Common = {
  unit: z.string().max(64).optional().describe('unit path, e.g. 08/02509 (default: the caller’s own unit)'),
  from: Day.optional().describe('first day (Vietnamese calendar)'),
  to: Day.optional().describe('last day, inclusive'),
  period: z
    .string()
    .max(10)
    .optional()
    .describe('instead of from/to: a quarter (2026-Q4), a year (2026) or a month (2026-11)'),
  format: Format.optional().describe(
    'json (default), csv, xlsx or pdf (effectiveness only); or send Accept: text/csv, the XLSX type or application/pdf',
  ),
};

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function pickFormat(c: Context, format: string | undefined): z.infer<typeof Format> {
  if (format) return format as z.infer<typeof Format>;
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/pdf')) return 'pdf';
  if (accept.includes(XLSX_TYPE)) return 'xlsx';
  if (accept.includes('text/csv')) return 'csv';
  return 'json';
}

export async function reportUnit(deps: Deps, user: AuthUser, unit: string | undefined): Promise<string> {
  if (unit) {
    requireScope(user, unit);
    return unit;
  }
  const own = user.scope.filter((s) => s !== ALL_UNITS);
  if (own.length === 1) return own[0] as string;
  const roots = await deps.store.units.children(null);
  if (user.scope.includes(ALL_UNITS) && roots.length === 1) return (roots[0] as { path: string }).path;
  throw new LoaError('REPORT_UNIT_REQUIRED', 'hãy chọn đơn vị cho báo cáo (tham số unit)');
}

export function reportPeriod(
  q: { from?: string | undefined; to?: string | undefined; period?: string | undefined },
  nowMs: number,
): Period {
  if (q.period) return namedPeriod(q.period);
  if (q.from || q.to) {
    if (!q.from || !q.to) throw new LoaError('REPORT_PERIOD_INVALID', 'cần cả from và to (YYYY-MM-DD)');
    return periodOf(q.from, q.to);
  }
  // default: the last 7 days up to today
  const today = new Date(nowMs + 7 * 3600_000).toISOString().slice(0, 10);
  const weekAgo = new Date(nowMs + 7 * 3600_000 - 6 * 86_400_000).toISOString().slice(0, 10);
  return periodOf(weekAgo, today);
}

export async function fileAnswer(
  c: Context,
  format: 'csv' | 'xlsx',
  tables: Table[],
  filename: string,
  title: string,
): Promise<Response> {
  if (format === 'csv')
    return c.body(toCsv(tables[0] as Table), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}.csv"`,
    });
  const buf = await toXlsx(tables, { title });
  return c.body(new Uint8Array(buf), 200, {
    'content-type': XLSX_TYPE,
    'content-disposition': `attachment; filename="${filename}.xlsx"`,
  });
}

const slug = (unit: string) => unit.replace(/\//g, '-');

export function reportRoutes(reports: ReportService) {
  return ({ api, deps }: RouteContext): void => {
    api.add({
      method: 'get',
      path: '/reports/effectiveness',
      summary:
        'Effectiveness of a unit over a period: planned vs played vs displayed, essential content reached, airtime, uptime, faults',
      description:
        'Figures from signed proofs (played, displayed) and presence intervals (uptime). `format=csv` gives one row per day, unit and output; `format=xlsx` a workbook with a sheet per table. `groupBy=children` rolls the figures up to the unit’s child units.',
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({
        ...Common,
        groupBy: z.enum(['unit', 'children']).optional(),
        daily: z.enum(['true', 'false']).optional().describe('include the per-day rows (default true)'),
      }),
      response: EffectivenessSchema,
      handler: async ({ c, query, user }) => {
        const unit = await reportUnit(deps, user, query.unit);
        const period = reportPeriod(query, deps.clock.now());
        const format = pickFormat(c, query.format);
        const rep = await reports.effectiveness({
          unit,
          period,
          ...(query.groupBy ? { groupBy: query.groupBy } : {}),
          daily: query.daily !== 'false' || format !== 'json',
        });
        if (format === 'json') return rep;
        const name = `loa-hieu-qua-${slug(unit)}-${period.from}-${period.to}`;
        if (format === 'pdf') {
          const u = await deps.store.units.get(unit);
          if (!u) throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`);
          const parent = u.parent ? await deps.store.units.get(u.parent) : undefined;
          const training = trainingTable(rep);
          const tables = {
            units: unitsTable(rep),
            essential: essentialTable(rep),
            airtime: airtimeTable(rep),
            faults: faultsTable(rep),
            kpi: kpiPrintTable(await reports.kpis(rep)),
            ...(training ? { training } : {}),
          };
          const pdf = await reportPdf(
            {
              ...headerOf(u, parent),
              number: '…/BC-UBND',
              day: vnDay(deps.clock.now()),
              title: 'BÁO CÁO',
              subtitle: `Kết quả hoạt động thông tin cơ sở ${lowerFirst(rep.period.name)}`,
            },
            effectivenessSections(rep, tables),
          );
          return c.body(new Uint8Array(pdf), 200, {
            'content-type': 'application/pdf',
            'content-disposition': `attachment; filename="${name}.pdf"`,
          });
        }
        return fileAnswer(
          c,
          format,
          format === 'csv' ? [dailyTable(rep)] : effectivenessTables(rep, await reports.kpis(rep)),
          name,
          `Báo cáo hiệu quả ${rep.unitName} ${rep.period.name}`,
        );
      },
    });

    api.add({
      method: 'get',
      path: '/reports/plays',
      summary: 'What played where and when: one line per signed proof, per station and item',
      description:
        "Each line carries the event id and hash of the signed proof behind it. Filters: deviceId, bundleId, itemId, outcome, output. Pages of `limit` lines: pass the answer's `next` as `cursor` for the next page (CSV and XLSX answers carry it in the X-Loa-Next-Cursor header); each page reads on from where the last one ended. CSV and XLSX give the same lines with Vietnamese headers.",
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({
        ...Common,
        deviceId: z.string().max(128).optional(),
        bundleId: z.string().max(128).optional(),
        itemId: z.string().max(128).optional(),
        outcome: ProofOutcomeSchema.optional(),
        output: z.enum(['audio', 'display']).optional(),
        limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
        cursor: z.string().max(200).optional(),
      }),
      response: PlaysSchema,
      handler: async ({ c, query, user }) => {
        const unit = await reportUnit(deps, user, query.unit);
        const period = reportPeriod(query, deps.clock.now());
        const r = await reports.plays({
          unit,
          period,
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.deviceId ? { deviceId: query.deviceId } : {}),
          ...(query.bundleId ? { bundleId: query.bundleId } : {}),
          ...(query.itemId ? { itemId: query.itemId } : {}),
          ...(query.outcome ? { outcome: query.outcome } : {}),
          ...(query.output ? { output: query.output } : {}),
        });
        const format = pickFormat(c, query.format);
        if (format === 'pdf')
          throw new LoaError(
            'REPORT_FORMAT_UNSUPPORTED',
            'danh sách lượt phát xuất được CSV hoặc Excel, không phải PDF',
          );
        if (format === 'json')
          return {
            unit,
            from: period.from,
            to: period.to,
            truncated: r.truncated,
            next: r.next,
            lines: r.lines,
          };
        if (r.next) c.header('x-loa-next-cursor', r.next);
        return fileAnswer(
          c,
          format,
          [playsTable(r.lines)],
          `loa-luot-phat-${slug(unit)}-${period.from}-${period.to}`,
          `Lượt phát ${unit} ${period.from} – ${period.to}`,
        );
      },
    });
  };
}
