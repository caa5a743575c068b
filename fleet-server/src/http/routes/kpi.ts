/** The plan's indicators of a unit for a period: figure, target and source of each (JSON, CSV, XLSX). */
import { z } from 'zod';
import { kpiTable } from '../../domain/reports/tables.js';
import type { ReportService } from '../../services/report-service.js';
import type { RouteContext } from '../route-context.js';
import { fileAnswer, pickFormat, reportPeriod, reportUnit } from './reports.js';

const KpiSchema = z.object({
  key: z.string(),
  name: z.string(),
  period: z.string(),
  value: z.number().nullable(),
  target: z.number().nullable(),
  kind: z.enum(['share', 'count']),
  met: z.boolean().nullable(),
  source: z.string(),
});

export function kpiRoutes(reports: ReportService) {
  return ({ api, deps }: RouteContext): void => {
    api.add({
      method: 'get',
      path: '/reports/kpi',
      summary: "The plan's indicators for a unit and period: figure, target, source",
      description:
        'Shares are 0..1. An indicator Loa cannot measure yet has value null and says why in source.',
      tags: ['reports'],
      permission: 'read',
      query: z.strictObject({
        unit: z.string().max(64).optional(),
        from: z.string().max(10).optional(),
        to: z.string().max(10).optional(),
        period: z.string().max(10).optional(),
        format: z.enum(['json', 'csv', 'xlsx']).optional(),
      }),
      response: z.object({
        unit: z.string(),
        unitName: z.string(),
        period: z.string(),
        kpis: z.array(KpiSchema),
      }),
      handler: async ({ c, query, user }) => {
        const unit = await reportUnit(deps, user, query.unit);
        const period = reportPeriod(query, deps.clock.now());
        const report = await reports.effectiveness({ unit, period, daily: false });
        const kpis = await reports.kpis(report);
        const format = pickFormat(c, query.format);
        if (format === 'json' || format === 'pdf')
          return { unit, unitName: report.unitName, period: report.period.name, kpis };
        return fileAnswer(
          c,
          format,
          [kpiTable(kpis)],
          `loa-chi-tieu-${unit.replace(/\//g, '-')}`,
          'Chỉ tiêu',
        );
      },
    });
  };
}
