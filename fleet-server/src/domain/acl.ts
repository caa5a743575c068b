/**
 * Broker access control (pure). A device (MQTT username = client id = device id):
 *   - publishes only its own UP topics: loa/v1/d/{self}/{presence|health|proof|status|cmd-result};
 *   - subscribes only to its own DOWN topics and the broadcast topics of its unit's ancestry;
 *   - never touches $SYS, wildcards or topics deeper than MAX_TOPIC_LEVELS.
 * The server publishes through the broker's internal path, not through these checks.
 */
import {
  CommandResultSchema,
  DOWN_KINDS,
  deviceTopic,
  HealthSchema,
  MAX_DEVICE_PAYLOAD,
  MAX_TOPIC_LEVELS,
  PresenceSchema,
  ProofUplinkSchema,
  parseHealth,
  parseProofUplink,
  parseTopic,
  StatusSchema,
  TimeRequestSchema,
  UNIT_KINDS,
  UP_KINDS,
  type UpKind,
  unitCovers,
} from '@loa/protocol';

export interface DeviceIdentity {
  deviceId: string;
  unit: string;
}

export type AclDecision<T = undefined> =
  | { ok: true; value: T }
  | { ok: false; code: AclCode; reason: string };
export type AclCode =
  | 'ACL_SYS'
  | 'ACL_TOO_DEEP'
  | 'ACL_FOREIGN_TOPIC'
  | 'ACL_OTHER_DEVICE'
  | 'ACL_WRONG_KIND'
  | 'ACL_OTHER_UNIT'
  | 'ACL_WILDCARD';

const deny = (code: AclCode, reason: string): { ok: false; code: AclCode; reason: string } => ({
  ok: false,
  code,
  reason,
});

function common(topic: string): AclDecision | null {
  if (topic.startsWith('$')) return deny('ACL_SYS', '$ topics are reserved');
  if (topic.split('/').length > MAX_TOPIC_LEVELS) return deny('ACL_TOO_DEEP', 'topic has too many levels');
  return null;
}

/**
 * Memo of the topics each device may publish on (topic → kind), so that the common case (every
 * health report and proof) is one lookup. Bounded: a province's devices, with room; beyond that
 * the oldest entries are dropped. Each broker owns one.
 */
export class OwnTopics {
  private readonly byDevice = new Map<string, ReadonlyMap<string, UpKind>>();
  constructor(private readonly max = 50_000) {}

  of(deviceId: string): ReadonlyMap<string, UpKind> {
    let m = this.byDevice.get(deviceId);
    if (!m) {
      m = new Map(UP_KINDS.map((k) => [deviceTopic(deviceId, k), k] as const));
      if (this.byDevice.size >= this.max) this.byDevice.delete(this.byDevice.keys().next().value as string);
      this.byDevice.set(deviceId, m);
    }
    return m;
  }
}

/**
 * May `who` publish on `topic`? On success returns the UP kind. `own` (the caller's memo) makes
 * a device's own uplink topics one lookup; without it every topic is parsed.
 */
export function authorizeDevicePublish(
  who: DeviceIdentity,
  topic: string,
  own?: OwnTopics,
): AclDecision<UpKind> {
  const kind = own?.of(who.deviceId).get(topic);
  if (kind) return { ok: true, value: kind };
  const c = common(topic);
  if (c) return c as AclDecision<UpKind>;
  const t = parseTopic(topic);
  if (!t) return deny('ACL_FOREIGN_TOPIC', 'not a topic of the loa/v1 tree');
  if (t.scope !== 'device') return deny('ACL_OTHER_UNIT', 'devices do not publish on unit topics');
  if (t.deviceId !== who.deviceId)
    return deny('ACL_OTHER_DEVICE', 'a device publishes only under its own id');
  if (!(UP_KINDS as readonly string[]).includes(t.kind))
    return deny('ACL_WRONG_KIND', `cannot publish ${t.kind}`);
  return { ok: true, value: t.kind as UpKind };
}

/** May `who` subscribe to `topic` (a filter; wildcards are refused)? */
export function authorizeDeviceSubscribe(who: DeviceIdentity, topic: string): AclDecision {
  const c = common(topic);
  if (c) return c;
  if (topic.includes('+') || topic.includes('#'))
    return deny('ACL_WILDCARD', 'wildcard subscriptions are refused');
  const t = parseTopic(topic);
  if (!t) return deny('ACL_FOREIGN_TOPIC', 'not a topic of the loa/v1 tree');
  if (t.scope === 'device') {
    if (t.deviceId !== who.deviceId)
      return deny('ACL_OTHER_DEVICE', "cannot subscribe to another device's topics");
    if (!(DOWN_KINDS as readonly string[]).includes(t.kind))
      return deny('ACL_WRONG_KIND', `cannot subscribe to ${t.kind}`);
    return { ok: true, value: undefined };
  }
  if (!unitCovers(t.unit, who.unit)) return deny('ACL_OTHER_UNIT', 'not a unit this device belongs to');
  if (!(UNIT_KINDS as readonly string[]).includes(t.kind))
    return deny('ACL_WRONG_KIND', `cannot subscribe to ${t.kind}`);
  return { ok: true, value: undefined };
}

const UP_SCHEMAS = {
  presence: PresenceSchema,
  health: HealthSchema,
  proof: ProofUplinkSchema,
  status: StatusSchema,
  'cmd-result': CommandResultSchema,
  'time-req': TimeRequestSchema,
} as const;

export type PayloadCheck =
  /** `text`: the payload as decoded and parsed (JSON equal in meaning to `value`). */
  | { ok: true; value: unknown; text: string }
  | { ok: false; code: 'PAYLOAD_TOO_LARGE' | 'PAYLOAD_MALFORMED'; reason: string };

/** Parses and validates a device payload for its UP kind (size, JSON, schema). */
export function checkUpPayload(
  kind: UpKind,
  payload: Uint8Array,
  maxBytes = MAX_DEVICE_PAYLOAD,
): PayloadCheck {
  if (payload.length > maxBytes)
    return {
      ok: false,
      code: 'PAYLOAD_TOO_LARGE',
      reason: `payload of ${payload.length} bytes exceeds ${maxBytes}`,
    };
  let json: unknown;
  const text = (
    Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length)
  ).toString('utf8');
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, code: 'PAYLOAD_MALFORMED', reason: 'payload is not JSON' };
  }
  // health is most of the uplink traffic, proofs the dearest per message: their hand-written
  // checks (same answers as the schemas)
  const r =
    kind === 'health'
      ? parseHealth(json)
      : kind === 'proof'
        ? parseProofUplink(json)
        : UP_SCHEMAS[kind].safeParse(json);
  if (!r.success)
    return {
      ok: false,
      code: 'PAYLOAD_MALFORMED',
      reason: r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
        .join('; '),
    };
  return { ok: true, value: r.data, text };
}
