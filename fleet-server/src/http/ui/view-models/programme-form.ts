/**
 * The programme editor's form → a bundle draft for POST /api/v1/bundles (pure). Every field is
 * checked here first so the operator gets a Vietnamese message next to the field; the API then
 * applies the authoritative rules (scope, content, versions).
 */
import { ChannelSchema, LocalTimeSchema, UnitPathSchema, type Weekday, WeekdaySchema } from '@loa/protocol';
import type { FieldErrors } from '../context.js';
import { fromLocalInput } from '../time.js';

export interface ProgrammeForm {
  channel: string;
  items: string[];
  rule: string;
  times: string;
  days: string[];
  at: string;
  repeat: string;
  gap: string;
  quiet: string;
  targets: string;
  priority: string;
  validDays: string;
  description: string;
}

export const EMPTY_PROGRAMME: ProgrammeForm = {
  channel: 'main',
  items: [],
  rule: 'daily',
  times: '05:30, 17:00',
  days: [],
  at: '',
  repeat: '1',
  gap: '0',
  quiet: '22:00-05:00',
  targets: '',
  priority: 'normal',
  validDays: '30',
  description: '',
};

export interface DraftBody {
  channel: string;
  description?: string;
  items: { content: string; priority: 'normal' | 'priority' | 'emergency' }[];
  schedule: {
    id: string;
    items: string[];
    rule:
      | { type: 'daily'; times: string[] }
      | { type: 'weekly'; days: Weekday[]; times: string[] }
      | { type: 'once'; at: string };
    repeat?: { count: number; gapSeconds: number };
  }[];
  quietHours?: { start: string; end: string }[];
  targets: { unit: string }[];
  expires: string;
  utcOffset: '+07:00';
}

function int(v: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

/** Parses and checks the form; `inScope` tells whether a unit path is the operator's. */
export function parseProgramme(
  f: ProgrammeForm,
  ctx: { nowMs: number; inScope: (unit: string) => boolean; knownContent: ReadonlySet<string> },
): { body: DraftBody } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!ChannelSchema.safeParse(f.channel).success) errors.channel = { key: 'err.invalid' };
  const items = f.items.filter((i) => ctx.knownContent.has(i));
  if (items.length === 0) errors.items = { key: 'err.pickOne' };
  const times = f.times
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^\d:\d\d$/.test(s) ? `0${s}` : s));
  let rule: DraftBody['schedule'][number]['rule'] | undefined;
  if (f.rule === 'daily' || f.rule === 'weekly') {
    if (times.length === 0) errors.times = { key: 'err.required' };
    else if (times.some((t) => !LocalTimeSchema.safeParse(t).success)) errors.times = { key: 'err.time' };
    if (f.rule === 'weekly') {
      const days = f.days.filter((d) => WeekdaySchema.safeParse(d).success) as Weekday[];
      if (days.length === 0) errors.days = { key: 'err.pickOne' };
      rule = { type: 'weekly', days, times: [...new Set(times)].sort() };
    } else rule = { type: 'daily', times: [...new Set(times)].sort() };
  } else if (f.rule === 'once') {
    const at = fromLocalInput(f.at);
    if (!at) errors.at = { key: 'err.datetime' };
    else if (Date.parse(at) <= ctx.nowMs) errors.at = { key: 'err.datetime' };
    else rule = { type: 'once', at };
  } else errors.rule = { key: 'err.invalid' };
  const repeat = int(f.repeat, 1, 100);
  if (repeat === undefined) errors.repeat = { key: 'err.number', params: { min: 1, max: 100 } };
  const gap = int(f.gap, 0, 86_400);
  if (gap === undefined) errors.gap = { key: 'err.gap' };
  const quietHours: { start: string; end: string }[] = [];
  for (const line of f.quiet
    .split(/[\n,;]+/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(line);
    const start = m?.[1]?.padStart(5, '0');
    const end = m?.[2]?.padStart(5, '0');
    if (
      !start ||
      !end ||
      !LocalTimeSchema.safeParse(start).success ||
      !LocalTimeSchema.safeParse(end).success
    ) {
      errors.quiet = { key: 'err.quiet' };
      break;
    }
    quietHours.push({ start, end });
  }
  const targets = [
    ...new Set(
      f.targets
        .split(/[\n,;\s]+/)
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (targets.length === 0) errors.targets = { key: 'err.required' };
  else if (targets.some((t) => !UnitPathSchema.safeParse(t).success)) errors.targets = { key: 'err.unit' };
  else if (targets.some((t) => !ctx.inScope(t))) errors.targets = { key: 'err.unitScope' };
  const priority = f.priority === 'priority' ? 'priority' : f.priority === 'normal' ? 'normal' : undefined;
  if (!priority) errors.priority = { key: 'err.invalid' };
  const validDays = int(f.validDays, 1, 365);
  if (validDays === undefined) errors.validDays = { key: 'err.number', params: { min: 1, max: 365 } };
  if (f.description.length > 2000) errors.description = { key: 'err.tooLong', params: { max: 2000 } };
  if (Object.keys(errors).length > 0 || !rule || !priority || repeat === undefined || gap === undefined)
    return { errors };
  const entry: DraftBody['schedule'][number] = {
    id: 'session',
    items,
    rule,
    ...(repeat > 1 ? { repeat: { count: repeat, gapSeconds: gap } } : {}),
  };
  return {
    body: {
      channel: f.channel,
      ...(f.description ? { description: f.description } : {}),
      items: items.map((content) => ({ content, priority })),
      schedule: [entry],
      ...(quietHours.length ? { quietHours } : {}),
      targets: targets.map((unit) => ({ unit })),
      expires: new Date(ctx.nowMs + (validDays as number) * 86_400_000).toISOString(),
      utcOffset: '+07:00',
    },
  };
}
