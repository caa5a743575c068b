/**
 * Periodic reports for the level above: issue a quarter's or a year's report now (numbered and
 * archived), list the archive, and fetch an archived report as PDF, XLSX or CSV (`format=` or Accept).
 */
import { LoaError } from '@loa/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import { ALL_UNITS, inScope } from '../../domain/rbac.js';
import { type PeriodicReport, PeriodicReportSchema } from '../../domain/reports/periodic.js';
import type { PeriodicReports, ReportFormat } from '../../services/periodic-reports.js';
import type { RouteContext } from '../route-context.js';
import { reportUnit, XLSX_TYPE } from './reports.js';

const TYPES: Record<ReportFormat, string> = {
  pdf: 'application/pdf',
  xlsx: XLSX_TYPE,
  csv: 'text/csv; charset=utf-8',
};

export function fileFormatOf(c: Context, format: string | undefined): ReportFormat | 'json' {
  if (format) return format as ReportFormat | 'json';
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/pdf')) return 'pdf';
  if (accept.includes(XLSX_TYPE)) return 'xlsx';
  if (accept.includes('text/csv')) return 'csv';
  return 'json';
}

const Format = z
  .enum(['json', 'pdf', 'xlsx', 'csv'])
  .optional()
  .describe('json (default), pdf, xlsx or csv; or send Accept: application/pdf, the XLSX type or text/csv');

export function periodicReportRoutes(periodic: PeriodicReports) {
  return ({ api, deps }: RouteContext): void => {
    const send = async (c: Context, r: PeriodicReport, format: ReportFormat) =>
      c.body(new Uint8Array(await periodic.file(r, format)), 200, {
        'content-type': TYPES[format],
        'content-disposition': `attachment; filename="${r.files[format]?.name ?? r.id}"`,
      });

    api.add({
      method: 'post',
      path: '/reports/periodic',
      summary: 'Issue the periodic report of a unit now (a quarter or a year), numbered and archived',
      description:
        'Renders the PDF (administrative layout: national motto, issuer, number, date, signature block), the XLSX workbook and the CSV, archives them and records the report. `format=pdf|xlsx|csv` answers with that file.',
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({
        unit: z.string().max(64).optional(),
        period: z.string().regex(/^\d{4}(-Q[1-4])?$/, 'a quarter (2026-Q4) or a year (2026)'),
        format: Format,
      }),
      response: PeriodicReportSchema,
      status: 201,
      handler: async ({ c, query, user, audit }) => {
        const unit = await reportUnit(deps, user, query.unit);
        const r = await periodic.generate(unit, query.period, user.id);
        await audit(
          'report.issue',
          { type: 'report', id: r.id },
          { period: r.period, number: r.number },
          unit,
        );
        const format = fileFormatOf(c, query.format);
        return format === 'json' ? r : send(c, r, format);
      },
    });

    api.add({
      method: 'get',
      path: '/reports/archive',
      summary: 'Periodic reports issued (by request or on the schedule), newest first',
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({ unit: z.string().max(64).optional(), period: z.string().max(10).optional() }),
      response: z.array(PeriodicReportSchema),
      handler: async ({ query, user }) => {
        const all = user.scope.includes(ALL_UNITS);
        const list = await deps.store.periodicReports.list(
          (r) =>
            (all || inScope(user, r.unit)) &&
            (!query.unit || r.unit === query.unit) &&
            (!query.period || r.period === query.period),
        );
        return list.sort((a, b) => b.generatedAt.localeCompare(a.generatedAt));
      },
    });

    api.add({
      method: 'get',
      path: '/reports/archive/:id',
      summary: 'One archived periodic report: its record, or its PDF, XLSX or CSV file',
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({ format: Format }),
      response: PeriodicReportSchema,
      handler: async ({ c, params, query, user }) => {
        const r = await deps.store.periodicReports.get(params.id);
        if (!r || !inScope(user, r.unit))
          throw new LoaError('REPORT_NOT_FOUND', `không có báo cáo ${params.id}`);
        const format = fileFormatOf(c, query.format);
        return format === 'json' ? r : send(c, r, format);
      },
    });
  };
}
