/**
 * The programme editor's form → a bundle draft for POST /api/v1/bundles (pure). Every field is
 * checked here first so the operator gets a Vietnamese message next to the field; the API then
 * applies the authoritative rules (scope, content, versions).
 */
import {
  ChannelSchema,
  IdSchema,
  LocalTimeSchema,
  UnitPathSchema,
  type Weekday,
  WeekdaySchema,
} from '@loa/protocol';
import type { FieldErrors } from '../context.js';
import { fromLocalInput } from '../time.js';

export interface ProgrammeForm {
  channel: string;
  /** A readable name for a new channel (the channel id is made from it). */
  channelName?: string;
  items: string[];
  rule: string;
  times: string;
  days: string[];
  at: string;
  repeat: string;
  gap: string;
  quiet: string;
  /** Units chosen in the unit tree (paths). */
  targetUnits: string[];
  /** Advanced, one target per line: a unit path followed by group ids ("08/02500 cho, truong-hoc"). */
  targets: string;
  /** Output zones of the stations (comma separated ids); empty = all zones. */
  zones: string;
  priority: string;
  validDays: string;
  description: string;
  /** Noticeboards: seconds each image or text bulletin stays on screen (empty: the item's own). */
  displaySeconds?: string;
  /** A live relay item (stream or the stations' FM module) with its fallback chain. */
  live?: LiveForm;
}

export interface LiveForm {
  /** '' (none), 'stream' or 'fm'. */
  kind: string;
  title: string;
  url: string;
  format: string;
  fm: string;
  minutes: string;
  fallbackFm: string;
  /** Content id of an audio recording cached on the stations. */
  fallbackRecording: string;
}

export type DraftLiveItem = {
  id: string;
  title: string;
  priority: 'normal' | 'priority';
  durationMs: number;
  live:
    | { kind: 'stream'; url: string; format?: 'mp3' | 'aac' | 'ogg' | 'hls' }
    | { kind: 'fm'; frequencyMHz: number };
  fallback?: { fmMHz?: number; recording?: string };
};

function mhz(v: string): number | undefined {
  const t = v.trim().replace(',', '.');
  if (!/^\d{2,3}(\.\d{1,2})?$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 87 && n <= 108 ? n : undefined;
}

/** The live item of the form, or its field errors; undefined when the form has none. */
function parseLive(
  l: LiveForm | undefined,
  priority: 'normal' | 'priority',
  ctx: { knownContent: ReadonlySet<string> },
  errors: FieldErrors,
): DraftLiveItem | undefined {
  if (!l || (l.kind !== 'stream' && l.kind !== 'fm')) return undefined;
  const title = l.title.trim();
  if (!title) errors.liveTitle = { key: 'err.required' };
  else if (title.length > 300) errors.liveTitle = { key: 'err.tooLong', params: { max: 300 } };
  const minutes = int(l.minutes, 1, 1440);
  if (minutes === undefined) errors.liveMinutes = { key: 'err.number', params: { min: 1, max: 1440 } };
  let live: DraftLiveItem['live'] | undefined;
  if (l.kind === 'stream') {
    const url = l.url.trim();
    if (!/^https?:\/\/[^\s]+$/.test(url) || url.length > 2000) errors.liveUrl = { key: 'err.invalid' };
    const format = ['mp3', 'aac', 'ogg', 'hls'].includes(l.format) ? (l.format as 'mp3') : undefined;
    live = { kind: 'stream', url, ...(format ? { format } : {}) };
  } else {
    const f = mhz(l.fm);
    if (f === undefined) errors.liveFm = { key: 'err.invalid' };
    live = { kind: 'fm', frequencyMHz: f ?? 0 };
  }
  const fbFm = l.fallbackFm.trim() ? mhz(l.fallbackFm) : undefined;
  if (l.fallbackFm.trim() && fbFm === undefined) errors.fallbackFm = { key: 'err.invalid' };
  const rec =
    l.fallbackRecording && ctx.knownContent.has(l.fallbackRecording) ? l.fallbackRecording : undefined;
  const fallback = {
    ...(fbFm !== undefined && l.kind === 'stream' ? { fmMHz: fbFm } : {}),
    ...(rec ? { recording: rec } : {}),
  };
  return {
    id: 'tiep-song',
    title,
    priority,
    durationMs: (minutes ?? 1) * 60_000,
    live,
    ...(Object.keys(fallback).length ? { fallback } : {}),
  };
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
  targetUnits: [],
  targets: '',
  zones: '',
  priority: 'normal',
  validDays: '30',
  description: '',
};

export interface DraftBody {
  channel: string;
  description?: string;
  items: (
    | { content: string; priority: 'normal' | 'priority' | 'emergency'; durationMs?: number }
    | DraftLiveItem
  )[];
  schedule: {
    id: string;
    items: string[];
    rule:
      | { type: 'daily'; times: string[] }
      | { type: 'weekly'; days: Weekday[]; times: string[] }
      | { type: 'once'; at: string };
    repeat?: { count: number; gapSeconds: number };
    zones?: string[];
  }[];
  quietHours?: { start: string; end: string }[];
  targets: { unit: string; groups?: string[] }[];
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
  ctx: {
    nowMs: number;
    inScope: (unit: string) => boolean;
    knownContent: ReadonlySet<string>;
    /** Image and text items (a noticeboard shows them for `displaySeconds`). */
    displayContent?: ReadonlySet<string>;
  },
): { body: DraftBody } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (f.channel === '') errors.channelName = { key: 'err.required' };
  else if (!ChannelSchema.safeParse(f.channel).success) errors.channel = { key: 'err.invalid' };
  const items = f.items.filter((i) => ctx.knownContent.has(i));
  const liveWanted = f.live?.kind === 'stream' || f.live?.kind === 'fm';
  if (items.length === 0 && !liveWanted) errors.items = { key: 'err.pickOne' };
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
    else if (Date.parse(at) <= ctx.nowMs) errors.at = { key: 'err.past' };
    else rule = { type: 'once', at };
  } else if (f.rule !== 'loop') errors.rule = { key: 'err.invalid' };
  // 'loop': no session; noticeboards show the items in their default loop whenever nothing is scheduled
  const loop = f.rule === 'loop';
  const display = (f.displaySeconds ?? '').trim();
  const displaySeconds = display === '' ? undefined : int(display, 1, 3600);
  if (display !== '' && displaySeconds === undefined)
    errors.displaySeconds = { key: 'err.number', params: { min: 1, max: 3600 } };
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
  const targets: { unit: string; groups?: string[] }[] = [];
  const seen = new Set<string>();
  for (const line of [...f.targetUnits, ...f.targets.split(/\n|;/)].map((l) => l.trim()).filter(Boolean)) {
    const [unit = '', ...rest] = line.split(/[\s,]+/).filter(Boolean);
    const groups = rest.filter((g) => g.length > 0);
    if (!UnitPathSchema.safeParse(unit).success || groups.some((g) => !IdSchema.safeParse(g).success)) {
      errors.targets = { key: 'err.unit' };
      break;
    }
    if (!ctx.inScope(unit)) {
      errors.targets = { key: 'err.unitScope' };
      break;
    }
    if (seen.has(unit)) continue;
    seen.add(unit);
    targets.push(groups.length ? { unit, groups } : { unit });
  }
  if (targets.length === 0 && !errors.targets) errors.targets = { key: 'err.required' };
  const zones = f.zones
    .split(/[\s,;]+/)
    .map((z) => z.trim())
    .filter(Boolean);
  if (zones.length > 16 || zones.some((z) => !IdSchema.safeParse(z).success))
    errors.zones = { key: 'err.invalid' };
  const priority = f.priority === 'priority' ? 'priority' : f.priority === 'normal' ? 'normal' : undefined;
  if (!priority) errors.priority = { key: 'err.invalid' };
  const validDays = int(f.validDays, 1, 365);
  if (validDays === undefined) errors.validDays = { key: 'err.number', params: { min: 1, max: 365 } };
  if (f.description.length > 2000) errors.description = { key: 'err.tooLong', params: { max: 2000 } };
  const live = parseLive(f.live, priority ?? 'normal', ctx, errors);
  if (
    Object.keys(errors).length > 0 ||
    (!rule && !loop) ||
    !priority ||
    repeat === undefined ||
    gap === undefined
  )
    return { errors };
  const entry: DraftBody['schedule'][number] | undefined = rule && {
    id: 'session',
    items: live ? [...items, live.id] : items,
    rule,
    ...(repeat > 1 ? { repeat: { count: repeat, gapSeconds: gap } } : {}),
    ...(zones.length ? { zones } : {}),
  };
  return {
    body: {
      channel: f.channel,
      ...(f.description ? { description: f.description } : {}),
      items: [
        ...items.map((content) => ({
          content,
          priority: priority as 'normal' | 'priority',
          ...(displaySeconds !== undefined && ctx.displayContent?.has(content)
            ? { durationMs: displaySeconds * 1000 }
            : {}),
        })),
        ...(live ? [live] : []),
      ],
      schedule: entry ? [entry] : [],
      ...(quietHours.length ? { quietHours } : {}),
      targets,
      expires: new Date(ctx.nowMs + (validDays as number) * 86_400_000).toISOString(),
      utcOffset: '+07:00',
    },
  };
}
