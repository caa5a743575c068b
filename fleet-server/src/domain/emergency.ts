/**
 * Emergency broadcasts, pure: the request, the manifest body (priority emergency, rule
 * immediate, repeated), and per-device tracking from statuses and proofs.
 */
import {
  BUNDLE_FORMAT,
  IdSchema,
  type Item,
  LanguageSchema,
  LoaError,
  type ManifestBody,
  ManifestBodySchema,
  type Proof,
  type Status,
  UnitPathSchema,
} from '@loa/protocol';
import { z } from 'zod';
import { type ContentLike, DEFAULT_UTC_OFFSET, itemFromContent } from './bundle-compose.js';

export const EMERGENCY_CHANNEL = 'emergency';

export const EmergencyRequestSchema = z
  .strictObject({
    /** Unit subtree that must hear it. */
    unit: UnitPathSchema,
    title: z.string().trim().min(1).max(300),
    /** Text shown on noticeboards and, when no audio is given, spoken by text-to-speech. */
    text: z.string().trim().min(1).max(5000).optional(),
    /** An uploaded audio content id to play instead of synthesised speech. */
    content: IdSchema.optional(),
    lang: LanguageSchema.default('vi'),
    repeat: z.number().int().min(1).max(20).default(3),
    gapSeconds: z.number().int().min(0).max(3600).default(30),
    /** How long stations keep it (minutes). */
    validMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(120),
    volume: z.number().int().min(0).max(100).default(100),
  })
  .refine((r) => r.text !== undefined || r.content !== undefined, {
    message: 'cần nội dung văn bản (text) hoặc âm thanh (content)',
    path: ['text'],
  });
export type EmergencyRequest = z.infer<typeof EmergencyRequestSchema>;

/**
 * Manifest body of an emergency bundle. `audio` is the item's audio (uploaded or synthesised);
 * the text, when given, is an extra text item for noticeboards. The schedule plays the audio (or
 * the text when there is no audio) immediately, `repeat` times.
 */
export function composeEmergencyManifest(
  req: EmergencyRequest,
  audio: ContentLike | undefined,
  opts: { version: number; now: Date },
): ManifestBody {
  const items: Item[] = [];
  if (audio) {
    if (audio.kind !== 'audio')
      throw new LoaError('CONTENT_KIND', 'Nội dung khẩn cấp phải là âm thanh', {
        details: { kind: audio.kind },
      });
    items.push(
      itemFromContent(audio, { id: 'alert-audio', title: req.title, priority: 'emergency', chime: true }),
    );
  }
  if (req.text !== undefined)
    items.push({
      id: 'alert-text',
      title: req.title,
      kind: 'text',
      priority: 'emergency',
      lang: req.lang,
      text: req.text,
    });
  const first = items[0];
  if (!first) throw new LoaError('EMERGENCY_EMPTY', 'Bản tin khẩn cấp không có nội dung');
  const body = {
    type: 'loa-bundle',
    format: BUNDLE_FORMAT,
    id: `${EMERGENCY_CHANNEL}-v${opts.version}`,
    channel: EMERGENCY_CHANNEL,
    version: opts.version,
    created: opts.now.toISOString(),
    expires: new Date(opts.now.getTime() + req.validMinutes * 60_000).toISOString(),
    utcOffset: DEFAULT_UTC_OFFSET,
    targets: [{ unit: req.unit }],
    items,
    schedule: [
      {
        id: 'now',
        items: [first.id],
        rule: { type: 'immediate' },
        repeat: { count: req.repeat, gapSeconds: req.gapSeconds },
        volume: req.volume,
      },
    ],
    description: req.title,
  };
  const parsed = ManifestBodySchema.safeParse(body);
  if (!parsed.success)
    throw new LoaError(
      'BUNDLE_INVALID',
      `Bản tin khẩn cấp không hợp lệ: ${parsed.error.issues[0]?.message}`,
      {
        cause: parsed.error,
      },
    );
  return parsed.data;
}

/** `withdrawn`: the station dropped the emergency after a recall (its cancel), with a signed proof. */
export type EmergencyDeviceStage = 'sent' | 'received' | 'playing' | 'completed' | 'failed' | 'withdrawn';

export interface EmergencyDeviceState {
  deviceId: string;
  unit: string;
  stage: EmergencyDeviceStage;
  receivedAt?: string;
  startedAt?: string;
  completedAt?: string;
  failedReason?: string;
  /** Plays started (repeats count). */
  plays: number;
  updatedAt: string;
}

const RANK: Record<EmergencyDeviceStage, number> = {
  sent: 0,
  received: 1,
  playing: 2,
  completed: 3,
  failed: 1,
  withdrawn: 4,
};

export function initialEmergencyState(deviceId: string, unit: string, now: Date): EmergencyDeviceState {
  return { deviceId, unit, stage: 'sent', plays: 0, updatedAt: now.toISOString() };
}

function advance(cur: EmergencyDeviceState, stage: EmergencyDeviceStage): EmergencyDeviceStage {
  if (cur.stage === 'failed') return stage;
  return RANK[stage] > RANK[cur.stage] ? stage : cur.stage;
}

/** A status report for the emergency bundle: verified/active = received; playing = started. */
export function applyEmergencyStatus(
  cur: EmergencyDeviceState,
  s: Status,
  bundleId: string,
  now: Date,
): EmergencyDeviceState | undefined {
  if (s.bundleId !== bundleId) return undefined;
  const at = now.toISOString();
  switch (s.state) {
    case 'notified':
    case 'downloading':
      return undefined;
    case 'verified':
    case 'active':
      if (cur.receivedAt) return undefined;
      return { ...cur, stage: advance(cur, 'received'), receivedAt: at, updatedAt: at };
    case 'playing':
      return {
        ...cur,
        stage: advance(cur, 'playing'),
        receivedAt: cur.receivedAt ?? at,
        startedAt: cur.startedAt ?? at,
        updatedAt: at,
      };
    case 'failed':
      if (cur.stage === 'completed' || cur.stage === 'playing') return undefined;
      return { ...cur, stage: 'failed', failedReason: s.reason ?? s.message ?? 'failed', updatedAt: at };
  }
}

/** A proof of the emergency bundle: started/completed/failed. */
export function applyEmergencyProof(
  cur: EmergencyDeviceState,
  p: Proof,
  bundleId: string,
  now: Date,
): EmergencyDeviceState | undefined {
  if (p.bundleId !== bundleId) return undefined;
  const at = now.toISOString();
  const startedAt = p.startedAt ?? at;
  switch (p.outcome) {
    case 'started':
      return {
        ...cur,
        stage: advance(cur, 'playing'),
        receivedAt: cur.receivedAt ?? at,
        startedAt: cur.startedAt ?? startedAt,
        plays: cur.plays + 1,
        updatedAt: at,
      };
    case 'completed':
      return {
        ...cur,
        stage: cur.stage === 'withdrawn' ? 'withdrawn' : 'completed',
        receivedAt: cur.receivedAt ?? at,
        startedAt: cur.startedAt ?? startedAt,
        completedAt: p.endedAt ?? at,
        plays: Math.max(cur.plays, 1),
        updatedAt: at,
      };
    case 'failed':
      if (cur.stage === 'completed' || cur.stage === 'withdrawn') return undefined;
      return { ...cur, stage: 'failed', failedReason: p.reason ?? 'failed', updatedAt: at };
    case 'withdrawn':
      return { ...cur, stage: 'withdrawn', updatedAt: at };
    default:
      return undefined;
  }
}

export type EmergencySummary = Record<EmergencyDeviceStage, number> & { total: number };

export function summarizeEmergency(states: Iterable<EmergencyDeviceState>): EmergencySummary {
  const out: EmergencySummary = {
    total: 0,
    sent: 0,
    received: 0,
    playing: 0,
    completed: 0,
    failed: 0,
    withdrawn: 0,
  };
  for (const s of states) {
    out.total++;
    out[s.stage]++;
  }
  return out;
}

/** When stations that never confirmed an emergency are re-sent it, and when the operator is told. */
export interface EscalationPolicy {
  /** Re-send it on each unconfirmed station's own topic this long after sending. */
  resendAfterMs: number;
  /** Alert the operator on duty (webhook `emergency.unconfirmed`) this long after sending. */
  alertAfterMs: number;
}

export const DEFAULT_ESCALATION: EscalationPolicy = { resendAfterMs: 30_000, alertAfterMs: 90_000 };

/** What is due for an emergency at `now`: stations to re-send to, stations to report (never confirmed). */
export function escalationDue(
  states: Iterable<EmergencyDeviceState>,
  sentAt: number,
  now: number,
  done: { resent: boolean; alerted: boolean },
  policy: EscalationPolicy = DEFAULT_ESCALATION,
): { resend: string[]; alert: string[]; next?: number } {
  // "sent" (nothing heard) and "failed" (refused it) are unconfirmed; a withdrawn one was cancelled
  const unconfirmed = [...states]
    .filter((s) => s.stage === 'sent' || s.stage === 'failed')
    .map((s) => s.deviceId);
  const resend = !done.resent && now >= sentAt + policy.resendAfterMs ? unconfirmed : [];
  const alert = !done.alerted && now >= sentAt + policy.alertAfterMs ? unconfirmed : [];
  const left = [
    ...(done.resent || resend.length || now >= sentAt + policy.resendAfterMs
      ? []
      : [sentAt + policy.resendAfterMs]),
    ...(done.alerted || alert.length || now >= sentAt + policy.alertAfterMs
      ? []
      : [sentAt + policy.alertAfterMs]),
  ];
  const out: { resend: string[]; alert: string[]; next?: number } = { resend, alert };
  if (left.length) out.next = Math.min(...left);
  return out;
}

/** Repeat or extend an emergency in progress: what changes from the original request. */
export const EmergencyRepeatSchema = z.strictObject({
  repeat: z.number().int().min(1).max(20).optional(),
  gapSeconds: z.number().int().min(0).max(3600).optional(),
  validMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .optional(),
});
export type EmergencyRepeat = z.infer<typeof EmergencyRepeatSchema>;
