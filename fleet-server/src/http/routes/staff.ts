/**
 * The staff and training register: staff per unit (list, export, create, change, remove, import a
 * spreadsheet all or nothing), training courses, attendance and certificates, and the training
 * indicator of a unit. Phone numbers go only to roles holding `staff.contact`; answers that carry
 * them are audited (the service does both).
 */
import { z } from 'zod';
import { Instant } from '../../domain/model.js';
import {
  AttendanceInputSchema,
  CourseFieldsSchema,
  CourseInputSchema,
  StaffFieldsSchema,
  StaffInputSchema,
} from '../../domain/staff.js';
import type { ReportService } from '../../services/report-service.js';
import type { StaffActor, StaffRegister } from '../../services/staff-register.js';
import type { AuthUser } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import { fileAnswer, pickFormat, reportPeriod, reportUnit } from './reports.js';
import { readUploadedSheet } from './sheet-upload.js';

const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
const Stamps = { createdAt: Instant, updatedAt: Instant };

const StaffOut = StaffFieldsSchema.extend({
  ...Stamps,
  phoneHidden: z.boolean().describe('true when the reader may not see phone numbers (staff.contact)'),
  completedCourses: z.number().int(),
  trained: z.boolean().describe('completed at least one course that has ended'),
});
const CourseOut = CourseFieldsSchema.extend({ ...Stamps, topics: z.array(z.string()) });
const CourseListOut = CourseOut.extend({ attendees: z.number().int(), completed: z.number().int() });
const AttendanceOut = AttendanceInputSchema.extend({
  id: z.string(),
  courseId: z.string(),
  staffId: z.string(),
  unit: z.string(),
  completed: z.boolean(),
  ...Stamps,
});

const actorOf = (user: AuthUser, ip: string | undefined): StaffActor => ({
  id: user.id,
  username: user.username,
  role: user.role,
  scope: user.scope,
  ip,
  via: user.via === 'token' ? 'token' : 'session',
});

export function staffRoutes(register: StaffRegister, reports: ReportService) {
  return ({ api, deps }: RouteContext): void => {
    api.add({
      method: 'get',
      path: '/staff',
      summary: 'Grassroots information staff of a unit (or of the caller’s scope), with their training',
      description:
        'Phone numbers only for roles holding staff.contact (the read is audited); `format=csv|xlsx` exports the columns the import reads.',
      tags: ['staff'],
      permission: 'read',
      query: z.strictObject({
        unit: z.string().max(64).optional(),
        q: z.string().max(100).optional(),
        format: z.enum(['json', 'csv', 'xlsx']).optional(),
      }),
      response: z.array(StaffOut),
      handler: async ({ c, query, user, ip }) => {
        const list = await register.listStaff(actorOf(user, ip), {
          ...(query.unit ? { unit: query.unit } : {}),
          ...(query.q ? { q: query.q } : {}),
        });
        const format = pickFormat(c, query.format);
        if (format === 'json') return list;
        return fileAnswer(
          c,
          format === 'pdf' ? 'xlsx' : format,
          [register.staffTable(list)],
          `loa-can-bo-${(query.unit ?? 'tat-ca').replace(/\//g, '-')}`,
          'Cán bộ thông tin cơ sở',
        );
      },
    });

    api.add({
      method: 'post',
      path: '/staff',
      summary: 'Add a staff member',
      tags: ['staff'],
      permission: 'staff.manage',
      body: StaffInputSchema,
      response: StaffFieldsSchema.extend(Stamps),
      status: 201,
      errors: [404, 409],
      handler: ({ body, user, ip }) => register.createStaff(actorOf(user, ip), body),
    });

    api.add({
      method: 'patch',
      path: '/staff/:id',
      summary: 'Change a staff member (position, unit, phone, dates)',
      tags: ['staff'],
      permission: 'staff.manage',
      body: StaffFieldsSchema.omit({ id: true }).partial(),
      response: StaffFieldsSchema.extend(Stamps),
      handler: ({ params, body, user, ip }) => register.updateStaff(actorOf(user, ip), params.id, body),
    });

    api.add({
      method: 'delete',
      path: '/staff/:id',
      summary: 'Remove a staff member and their attendance lines',
      tags: ['staff'],
      permission: 'staff.manage',
      status: 204,
      handler: async ({ params, user, ip }) => {
        await register.removeStaff(actorOf(user, ip), params.id);
        return undefined;
      },
    });

    api.add({
      method: 'post',
      path: '/staff/import',
      summary: 'Import a staff spreadsheet (CSV or XLSX as the raw body): all rows or none',
      description:
        'The columns of the export (Vietnamese headers). Every bad line is reported (STAFF_IMPORT_INVALID, details.errors: line, field, message) and nothing is stored. A row whose code exists replaces that staff member.',
      tags: ['staff'],
      permission: 'staff.manage',
      maxBodyBytes: MAX_IMPORT_BYTES,
      response: z.object({
        imported: z.number().int(),
        created: z.number().int(),
        replaced: z.number().int(),
      }),
      errors: [413, 415],
      handler: async ({ c, user, ip }) =>
        register.importStaff(actorOf(user, ip), await readUploadedSheet(c, MAX_IMPORT_BYTES, 'STAFF')),
    });

    api.add({
      method: 'get',
      path: '/training/courses',
      summary: 'Training courses held in the caller’s scope or above it, newest first',
      description:
        '`format=csv|xlsx`: one row per attendance line (course, staff member, completed, certificate).',
      tags: ['staff'],
      permission: 'read',
      query: z.strictObject({
        unit: z.string().max(64).optional(),
        format: z.enum(['json', 'csv', 'xlsx']).optional(),
      }),
      response: z.array(CourseListOut),
      handler: async ({ c, query, user, ip }) => {
        const actor = actorOf(user, ip);
        const format = pickFormat(c, query.format);
        if (format === 'json') return register.listCourses(actor, query.unit ? { unit: query.unit } : {});
        return fileAnswer(
          c,
          format === 'pdf' ? 'xlsx' : format,
          [await register.coursesTable(actor, query.unit)],
          `loa-boi-duong-${(query.unit ?? 'tat-ca').replace(/\//g, '-')}`,
          'Khóa bồi dưỡng',
        );
      },
    });

    api.add({
      method: 'post',
      path: '/training/courses',
      summary: 'Add a training course (title, days, organiser, hours, topics)',
      tags: ['staff'],
      permission: 'staff.manage',
      body: CourseInputSchema,
      response: CourseOut,
      status: 201,
      errors: [404, 409],
      handler: ({ body, user, ip }) => register.createCourse(actorOf(user, ip), body),
    });

    api.add({
      method: 'patch',
      path: '/training/courses/:id',
      summary: 'Change a training course',
      tags: ['staff'],
      permission: 'staff.manage',
      body: CourseFieldsSchema.omit({ id: true }).partial(),
      response: CourseOut,
      handler: ({ params, body, user, ip }) => register.updateCourse(actorOf(user, ip), params.id, body),
    });

    api.add({
      method: 'delete',
      path: '/training/courses/:id',
      summary: 'Remove a training course and its attendance lines',
      tags: ['staff'],
      permission: 'staff.manage',
      status: 204,
      handler: async ({ params, user, ip }) => {
        await register.removeCourse(actorOf(user, ip), params.id);
        return undefined;
      },
    });

    api.add({
      method: 'get',
      path: '/training/courses/:id/attendance',
      summary: 'Who attended a course (staff in the caller’s scope), completed, certificate',
      tags: ['staff'],
      permission: 'read',
      response: z.array(AttendanceOut.extend({ name: z.string(), position: z.string() })),
      handler: ({ params, user, ip }) => register.attendance(actorOf(user, ip), params.id),
    });

    api.add({
      method: 'put',
      path: '/training/courses/:id/attendance/:staffId',
      summary: 'Record a staff member’s attendance of a course (completed, certificate number and day)',
      tags: ['staff'],
      permission: 'staff.manage',
      body: AttendanceInputSchema,
      response: AttendanceOut,
      handler: ({ params, body, user, ip }) =>
        register.recordAttendance(actorOf(user, ip), params.id, params.staffId, body),
    });

    api.add({
      method: 'delete',
      path: '/training/courses/:id/attendance/:staffId',
      summary: 'Remove an attendance line',
      tags: ['staff'],
      permission: 'staff.manage',
      status: 204,
      handler: async ({ params, user, ip }) => {
        await register.removeAttendance(actorOf(user, ip), params.id, params.staffId);
        return undefined;
      },
    });

    api.add({
      method: 'get',
      path: '/reports/training',
      summary: 'Staff trained in a unit for a period: the plan’s indicator with the staff still to train',
      tags: ['reports', 'staff'],
      permission: 'read',
      query: z.strictObject({
        unit: z.string().max(64).optional(),
        from: z.string().max(10).optional(),
        to: z.string().max(10).optional(),
        period: z.string().max(10).optional(),
      }),
      response: z.object({
        unit: z.string(),
        period: z.object({ from: z.string(), to: z.string() }),
        training: z
          .object({
            day: z.string(),
            staff: z.number().int(),
            trained: z.number().int(),
            share: z.number().nullable(),
            coursesInPeriod: z.number().int(),
            attendanceInPeriod: z.number().int(),
            hoursInPeriod: z.number(),
            untrained: z.array(
              z.object({ id: z.string(), name: z.string(), unit: z.string(), position: z.string() }),
            ),
            source: z.string(),
          })
          .nullable(),
      }),
      handler: async ({ query, user }) => {
        const unit = await reportUnit(deps, user, query.unit);
        const period = reportPeriod(query, deps.clock.now());
        return {
          unit,
          period: { from: period.from, to: period.to },
          training: await reports.training(unit, period),
        };
      },
    });
  };
}
