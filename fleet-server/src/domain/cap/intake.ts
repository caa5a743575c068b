/**
 * What an incoming CAP alert does, pure: a duplicate (same sender and identifier) is recognised;
 * an exercise, test, acknowledgement or expired alert is recorded and ignored; an Alert becomes an emergency draft
 * for a person, or is sent at once where the province's policy allows it for that sender and
 * severity; an Update replaces the alerts it references; a Cancel stops them.
 */
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import {
  autoSendAllowed,
  type CapConfig,
  type CapPlan,
  LoaPrioritySchema,
  pickInfo,
  planAlert,
  type UnitInfo,
} from './mapping.js';
import { type CapAlert, capKey } from './parse.js';

export const CAP_RECORD_STATES = ['draft', 'sent', 'cancelled', 'superseded', 'ignored'] as const;
export type CapRecordState = (typeof CAP_RECORD_STATES)[number];

export const MappedAreaSchema = z.object({
  areaDesc: z.string(),
  units: z.array(z.string()),
  by: z.enum(['geocode', 'official-code', 'polygon', 'circle', 'name']).nullable(),
});

/** One received CAP alert and what became of it (stored by the CAP service). */
export const CapRecordSchema = z.object({
  id: z.string(),
  /** sender,identifier */
  key: z.string(),
  identifier: z.string(),
  sender: z.string(),
  sent: z.string(),
  status: z.string(),
  msgType: z.string(),
  /** Keys of the alerts it references (Update, Cancel). */
  references: z.array(z.string()),
  state: z.enum(CAP_RECORD_STATES),
  receivedAt: z.string(),
  receivedBy: z.string(),
  event: z.string().optional(),
  severity: z.string().optional(),
  urgency: z.string().optional(),
  certainty: z.string().optional(),
  riskLevel: z.number().int().optional(),
  priority: LoaPrioritySchema.optional(),
  units: z.array(z.string()),
  areas: z.array(MappedAreaSchema).optional(),
  title: z.string().optional(),
  text: z.string().optional(),
  lang: z.string().optional(),
  validMinutes: z.number().int().optional(),
  /** Emergency bundle ids sent for it. */
  emergencies: z.array(z.string()),
  /** Why it is ignored, or why an automatic send fell back to a draft. */
  note: z.string().optional(),
  sendError: z.object({ code: z.string(), message: z.string() }).optional(),
  sentAt: z.string().optional(),
  sentBy: z.string().optional(),
  cancelledAt: z.string().optional(),
  /** The alert (key) that cancelled or superseded this one. */
  closedBy: z.string().optional(),
  /** Units a stop command was sent to on cancel. */
  stopped: z.array(z.string()).optional(),
});
export type CapRecord = z.infer<typeof CapRecordSchema>;

export const CAP_OUTCOMES = ['draft', 'sent', 'cancelled', 'duplicate', 'ignored'] as const;

/** What POST /cap answers: the outcome, the record, the records an Update or Cancel closed. */
export const CapResultSchema = z.object({
  outcome: z.enum(CAP_OUTCOMES),
  record: CapRecordSchema,
  closed: z.array(CapRecordSchema),
});

export type IntakeDecision =
  | { kind: 'duplicate'; record: CapRecord }
  | { kind: 'ignore'; reason: string }
  | { kind: 'new'; plan: CapPlan; mode: 'draft' | 'send'; supersedes: CapRecord[] }
  | { kind: 'cancel'; targets: CapRecord[] };

function referenced(alert: CapAlert, find: (key: string) => CapRecord | undefined): CapRecord[] {
  const keys = alert.references.map(capKey);
  const found = keys.map(find).filter((r): r is CapRecord => r !== undefined);
  if (found.length === 0)
    throw new LoaError(
      'CAP_REFERENCE_UNKNOWN',
      `CAP: ${alert.msgType} tham chiếu tới cảnh báo chưa từng nhận: ${keys.slice(0, 3).join(' ')}`,
      { details: { references: keys.slice(0, 20) } },
    );
  return found;
}

export function decideIntake(
  alert: CapAlert,
  find: (key: string) => CapRecord | undefined,
  cfg: CapConfig,
  units: readonly UnitInfo[],
  now: number,
): IntakeDecision {
  const dup = find(capKey(alert));
  if (dup) return { kind: 'duplicate', record: dup };
  if (alert.status !== 'Actual')
    return { kind: 'ignore', reason: `trạng thái ${alert.status}: chỉ ghi nhận, không phát` };
  if (alert.msgType === 'Ack' || alert.msgType === 'Error')
    return { kind: 'ignore', reason: `loại tin ${alert.msgType}: chỉ ghi nhận, không phát` };
  if (alert.msgType === 'Cancel') {
    const targets = referenced(alert, find).filter((r) => r.state === 'draft' || r.state === 'sent');
    return { kind: 'cancel', targets };
  }
  // an alert past its <expires> must not make a speaker talk (a late or replayed push)
  const info = pickInfo(alert);
  if (info?.expires && Date.parse(info.expires) <= now)
    return { kind: 'ignore', reason: `đã hết hạn lúc ${info.expires}: chỉ ghi nhận, không phát` };
  const supersedes =
    alert.msgType === 'Update'
      ? referenced(alert, find).filter((r) => r.state === 'draft' || r.state === 'sent')
      : [];
  const plan = planAlert(alert, cfg, units, now);
  const mode =
    plan.priority === 'emergency' && autoSendAllowed(cfg, alert.sender, plan.severity) ? 'send' : 'draft';
  return { kind: 'new', plan, mode, supersedes };
}

/** The record of an alert as received (state filled in by the caller). */
export function recordOf(
  alert: CapAlert,
  id: string,
  by: string,
  at: string,
  plan?: CapPlan,
): Omit<CapRecord, 'state'> {
  const base = {
    id,
    key: capKey(alert),
    identifier: alert.identifier,
    sender: alert.sender,
    sent: alert.sent,
    status: alert.status,
    msgType: alert.msgType,
    references: alert.references.map(capKey),
    receivedAt: at,
    receivedBy: by,
    units: [] as string[],
    emergencies: [] as string[],
  };
  const info = plan?.info ?? alert.infos[0];
  if (info)
    Object.assign(base, {
      event: info.event,
      severity: info.severity,
      urgency: info.urgency,
      certainty: info.certainty,
    });
  if (!plan) return base;
  return {
    ...base,
    units: plan.units,
    areas: plan.areas,
    priority: plan.priority,
    ...(plan.riskLevel !== undefined ? { riskLevel: plan.riskLevel } : {}),
    title: plan.title,
    text: plan.text,
    lang: plan.lang,
    validMinutes: plan.validMinutes,
  };
}
