/** Zod schemas of the report API's answers (the OpenAPI document is built from them). */
import { ProofOutcomeSchema } from '@loa/protocol';
import { z } from 'zod';

const Rate = z.number().nullable().describe('share 0..1, null when nothing was planned or observed');

export const OutputFiguresSchema = z.object({
  planned: z.number().int().describe('slots planned on devices of this output'),
  done: z
    .number()
    .int()
    .describe('of them, played (loudspeakers) or displayed (noticeboards), from signed proofs'),
  rate: Rate,
});

export const UnitFiguresSchema = z.object({
  unit: z.string(),
  unitName: z.string(),
  stations: z.number().int(),
  noticeboards: z.number().int(),
  audio: OutputFiguresSchema,
  display: OutputFiguresSchema,
  essential: z.object({ targeted: z.number().int(), reached: z.number().int(), share: Rate }),
  uptime: z.object({
    knownHours: z
      .number()
      .describe('hours the server could observe the devices (server up, after enrolment)'),
    onlineHours: z.number(),
    uptime: Rate,
    outages: z.number().int(),
    longestOutageMinutes: z.number(),
  }),
  completedPlays: z.number().int(),
  failedPlays: z.number().int(),
  interruptedPlays: z.number().int(),
  faults: z.number().int().describe('alerts (other than offline) that lasted at least 5 minutes'),
  briefAlerts: z.number().int().describe('shorter alerts: start-up and transient noise'),
  deadAirMinutes: z.number(),
});

const Missed = z.object({ deviceId: z.string(), name: z.string(), unit: z.string() });

export const EffectivenessSchema = z.object({
  unit: z.string(),
  unitName: z.string(),
  period: z.object({
    from: z.string(),
    to: z.string(),
    name: z.string().describe('Vietnamese, e.g. "Quý IV năm 2026"'),
  }),
  generatedAt: z.string(),
  totals: UnitFiguresSchema,
  units: z.array(UnitFiguresSchema),
  daily: z.array(
    z.object({
      day: z.string(),
      unit: z.string(),
      unitName: z.string(),
      output: z.enum(['audio', 'display']),
      outputName: z.string(),
      planned: z.number().int(),
      done: z.number().int(),
    }),
  ),
  essential: z.object({
    targeted: z.number().int(),
    reached: z.number().int(),
    share: Rate,
    items: z.array(
      z.object({
        bundleId: z.string(),
        entryId: z.string().nullable(),
        title: z.string(),
        priority: z.enum(['priority', 'emergency']),
        priorityName: z.string(),
        at: z.string(),
        targeted: z.number().int(),
        reached: z.number().int(),
        missedCount: z.number().int(),
        missed: z
          .array(Missed)
          .describe('the stations that missed it (at most 50 listed; missedCount is whole)'),
      }),
    ),
  }),
  airtime: z.object({
    byCategory: z.array(
      z.object({ key: z.string(), name: z.string(), minutes: z.number(), plays: z.number().int() }),
    ),
    byLanguage: z.array(
      z.object({ key: z.string(), name: z.string(), minutes: z.number(), plays: z.number().int() }),
    ),
  }),
  faults: z.array(
    z.object({
      rule: z.string(),
      name: z.string(),
      faults: z.number().int(),
      brief: z.number().int(),
      openMinutes: z.number(),
    }),
  ),
  feedback: z
    .object({ received: z.number().int(), answered: z.number().int(), source: z.string() })
    .nullable()
    .describe(
      "citizens' feedback received and answered in the period, when the feedback feature is composed",
    ),
  training: z
    .object({
      day: z.string().describe("the day staff are counted on (the period's last day, or today)"),
      staff: z.number().int().describe('grassroots information staff at work that day'),
      trained: z.number().int().describe('of them, those who completed at least one training course'),
      share: z.number().nullable(),
      coursesInPeriod: z.number().int(),
      attendanceInPeriod: z.number().int(),
      hoursInPeriod: z.number(),
      untrained: z.array(
        z.object({ id: z.string(), name: z.string(), unit: z.string(), position: z.string() }),
      ),
      source: z.string(),
    })
    .nullable()
    .describe('staff trained (the staff and training register); null when the unit keeps no staff register'),
});

export const PlayLineSchema = z.object({
  at: z.string(),
  deviceId: z.string(),
  deviceName: z.string(),
  unit: z.string(),
  unitName: z.string(),
  output: z.enum(['audio', 'display']),
  outputName: z.string(),
  bundleId: z.string().nullable(),
  itemId: z.string().nullable(),
  title: z.string().nullable(),
  category: z.string().nullable(),
  categoryName: z.string(),
  lang: z.string().nullable(),
  languageName: z.string(),
  priority: z.string().nullable(),
  priorityName: z.string(),
  scheduledAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationSeconds: z.number().nullable(),
  outcome: ProofOutcomeSchema,
  outcomeName: z.string(),
  reason: z.string().nullable(),
  loudnessLufs: z.number().nullable(),
  peakDbfs: z.number().nullable(),
  seq: z.number().int(),
  eventId: z.string().describe("the signed proof's event id"),
  hash: z.string().describe("SHA-256 of the signed proof (its place in the device's chain)"),
  receivedAt: z.string(),
});

export const PlaysSchema = z.object({
  unit: z.string(),
  from: z.string(),
  to: z.string(),
  truncated: z.boolean(),
  next: z
    .string()
    .nullable()
    .describe('pass as `cursor` for the next page (it resumes where this one ended); null on the last page'),
  lines: z.array(PlayLineSchema),
});
