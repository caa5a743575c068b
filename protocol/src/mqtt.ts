import { z } from 'zod';
import { CommandSchema } from './command.js';
import { ChannelSchema, IdSchema, InstantSchema, ManifestSchema, Sha256Schema } from './manifest.js';
import { RelayStateSchema } from './proof.js';
import { UnitPathSchema, unitAncestry } from './units.js';

/**
 * MQTT topic tree, version 1. Everything lives under `loa/v1/`.
 *   loa/v1/d/{deviceId}/{kind}    one device
 *   loa/v1/u/{unit path}/{kind}   every device in a unit subtree (path segments are topic levels)
 */
export const TOPIC_PREFIX = 'loa/v1';
/** Device → server. */
export const UP_KINDS = ['presence', 'health', 'proof', 'status', 'cmd-result', 'time-req'] as const;
/** Server → device. */
export const DOWN_KINDS = [
  'notify',
  'cmd',
  'ack',
  'emergency',
  'time',
  'release',
  'recall',
  'choices',
] as const;
/** Server → every device of a unit subtree. */
export const UNIT_KINDS = ['notify', 'cmd', 'emergency', 'recall', 'choices'] as const;
export type UpKind = (typeof UP_KINDS)[number];
export type DownKind = (typeof DOWN_KINDS)[number];
export type UnitKind = (typeof UNIT_KINDS)[number];
/** Deepest topic allowed: prefix (2) + "u" + 5 unit levels + kind. */
export const MAX_TOPIC_LEVELS = 9;

export function deviceTopic(deviceId: string, kind: UpKind | DownKind): string {
  return `${TOPIC_PREFIX}/d/${deviceId}/${kind}`;
}

export function unitTopic(unit: string, kind: UnitKind): string {
  return `${TOPIC_PREFIX}/u/${unit}/${kind}`;
}

/** What a device subscribes to: its own downlink topics and each ancestor unit's broadcasts. */
export function deviceSubscriptions(deviceId: string, unit: string): string[] {
  return [
    ...DOWN_KINDS.map((k) => deviceTopic(deviceId, k)),
    ...unitAncestry(unit).flatMap((u) => UNIT_KINDS.map((k) => unitTopic(u, k))),
  ];
}

export type ParsedTopic =
  | { scope: 'device'; deviceId: string; kind: string }
  | { scope: 'unit'; unit: string; kind: string };

/** Parses a topic of the tree; null for anything else (including wildcards). */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length < 4 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return null;
  if (parts.some((p) => p === '' || p === '+' || p === '#')) return null;
  if (parts[2] === 'd' && parts.length === 5 && IdSchema.safeParse(parts[3]).success)
    return { scope: 'device', deviceId: parts[3] as string, kind: parts[4] as string };
  if (parts[2] === 'u' && parts.length >= 5) {
    const unit = parts.slice(3, -1).join('/');
    if (UnitPathSchema.safeParse(unit).success) return { scope: 'unit', unit, kind: parts.at(-1) as string };
  }
  return null;
}

/** Largest payload the broker accepts from a device. */
export const MAX_DEVICE_PAYLOAD = 64 * 1024;

/**
 * Presence, retained. `boot` counts agent starts (persisted), `conn` counts connections in this
 * boot. The pair orders births and deaths: a late "offline" (last will of an older connection)
 * never overwrites a newer "online".
 */
export const PresenceSchema = z.strictObject({
  state: z.enum(['online', 'offline']),
  boot: z.number().int().min(0),
  conn: z.number().int().min(0),
  at: InstantSchema,
  agentVersion: z.string().max(64).optional(),
});
export type Presence = z.infer<typeof PresenceSchema>;

/** True when presence `b` is newer than `a`. */
export function presenceNewer(
  a: Pick<Presence, 'boot' | 'conn'>,
  b: Pick<Presence, 'boot' | 'conn'>,
): boolean {
  return b.boot > a.boot || (b.boot === a.boot && b.conn > a.conn);
}

export const ClockStateSchema = z.strictObject({
  trusted: z.boolean(),
  /** Where trust came from: ntp, server, modem, or none. */
  source: z.enum(['ntp', 'server', 'modem', 'persisted', 'none']),
  /** Latest instant the agent trusted, persisted across reboots. */
  lastTrusted: InstantSchema.optional(),
});
export type ClockState = z.infer<typeof ClockStateSchema>;

export const HealthSchema = z.strictObject({
  at: InstantSchema,
  seq: z.number().int().min(0),
  agentVersion: z.string().max(64),
  uptimeS: z.number().min(0),
  cpuTempC: z.number().min(-50).max(150).optional(),
  load1: z.number().min(0).optional(),
  memUsedMb: z.number().min(0).optional(),
  memTotalMb: z.number().min(0).optional(),
  diskFreeMb: z.number().min(0).optional(),
  modem: z
    .strictObject({
      rssiDbm: z.number().min(-150).max(0).nullable(),
      operator: z.string().max(64).nullable(),
      registration: z.enum(['home', 'roaming', 'searching', 'denied', 'unknown', 'not-registered']),
      tech: z.string().max(16).optional(),
      iccid: z.string().max(24).optional(),
      failures: z.number().int().min(0).optional(),
    })
    .optional(),
  inputs: z.strictObject({
    mains: z.boolean().nullable(),
    door: z.enum(['open', 'closed']).nullable(),
    ampFault: z.boolean().nullable(),
  }),
  relays: RelayStateSchema,
  onAir: z
    .strictObject({
      bundleId: IdSchema.optional(),
      itemId: IdSchema.optional(),
      kind: z.string().max(16),
      since: InstantSchema,
      momentaryLufs: z.number().min(-200).max(20).optional(),
      peakDbfs: z.number().min(-200).max(20).optional(),
      /** Live relays: the source on air now (stream, fm, recording, silence) and why it was taken. */
      source: z.string().max(16).optional(),
      sourceReason: z.string().max(200).optional(),
    })
    .nullable(),
  volume: z.number().int().min(0).max(100).optional(),
  bundles: z
    .array(z.strictObject({ channel: ChannelSchema, id: IdSchema, version: z.number().int().min(1) }))
    .max(64),
  trustVersion: z.number().int().min(0).optional(),
  clock: ClockStateSchema,
  /** Proofs written but not yet acknowledged by the server. */
  proofBacklog: z.number().int().min(0).optional(),
  deadAir: z.boolean().optional(),
  /** A noticeboard's screen: what is on it, the page's heartbeat, browser restarts, screen power. */
  display: z
    .strictObject({
      onScreen: z
        .strictObject({
          bundleId: IdSchema.optional(),
          itemId: IdSchema.optional(),
          kind: z.string().max(16),
          since: InstantSchema,
        })
        .nullable(),
      /** Milliseconds since the page's last heartbeat (null: never seen). */
      heartbeatAgeMs: z.number().int().min(0).nullable(),
      restarts: z.number().int().min(0),
      screen: z.enum(['on', 'off', 'unknown']),
      powerControl: z.enum(['cec', 'wlr-randr', 'none']),
      /** The latest display alert (render error, restart), with its stable code. */
      alert: z
        .strictObject({ code: z.string().max(64), message: z.string().max(500), at: InstantSchema })
        .optional(),
    })
    .optional(),
  /** The latest bundle tar taken from (or refused from) a USB stick. */
  usbImport: z
    .strictObject({
      file: z.string().max(300),
      ok: z.boolean(),
      code: z.string().max(64).optional(),
      bundleId: IdSchema.optional(),
      channel: ChannelSchema.optional(),
      version: z.number().int().min(1).optional(),
      at: InstantSchema,
    })
    .optional(),
  /** The latest rejection or failure, with its stable code. */
  lastError: z
    .strictObject({ code: z.string().max(64), message: z.string().max(500), at: InstantSchema })
    .optional(),
});
export type Health = z.infer<typeof HealthSchema>;

export const RolloutStateSchema = z.enum([
  'notified',
  'downloading',
  'verified',
  'active',
  'failed',
  'playing',
]);
export type RolloutState = z.infer<typeof RolloutStateSchema>;

/** Device → server: progress of a bundle (rollout view, emergency tracking). */
export const StatusSchema = z.strictObject({
  bundleId: IdSchema,
  channel: ChannelSchema,
  version: z.number().int().min(1),
  state: RolloutStateSchema,
  reason: z.string().max(64).optional(),
  message: z.string().max(500).optional(),
  bytes: z.number().int().min(0).optional(),
  totalBytes: z.number().int().min(0).optional(),
  at: InstantSchema,
});
export type Status = z.infer<typeof StatusSchema>;

/** Server → device(s): a new bundle is available. */
export const NotifySchema = z.strictObject({
  bundleId: IdSchema,
  channel: ChannelSchema,
  version: z.number().int().min(1),
  /** Where to GET manifest.json; blobs are at `${blobBase}/${sha256}`. */
  manifestUrl: z.string().max(2000),
  blobBase: z.string().max(2000),
  serverTime: InstantSchema,
});
export type Notify = z.infer<typeof NotifySchema>;

/**
 * Largest audio carried inside an emergency message (decoded bytes, every blob together): short
 * spoken alerts (speech-grade Opus, about 30 s at 16 kbit/s) reach a station in the message
 * itself, without an HTTP download over a weak 4G link. Longer audio keeps the download path.
 */
export const EMERGENCY_INLINE_MAX_BYTES = 64 * 1024;
const INLINE_MAX_BASE64 = Math.ceil(EMERGENCY_INLINE_MAX_BYTES / 3) * 4;

/**
 * A blob of the manifest carried in the message. Trusted only through the signed manifest: the
 * station checks its size and SHA-256 against the manifest's entry before writing it.
 */
export const InlineBlobSchema = z.strictObject({
  sha256: Sha256Schema,
  /**
   * The blob's bytes, canonical base64 (as Buffer's toString('base64') writes it). Checked by a
   * round trip: a regular expression over tens of kilobytes cost every station more than the
   * message's signature check.
   */
  data: z
    .string()
    .max(INLINE_MAX_BASE64)
    .refine((s) => Buffer.from(s, 'base64').toString('base64') === s, 'base64'),
});
export type InlineBlob = z.infer<typeof InlineBlobSchema>;

/** Server → unit subtree: an emergency bundle inline, so stations start without a round trip. */
export const EmergencySchema = z.strictObject({
  manifest: ManifestSchema,
  blobBase: z.string().max(2000),
  serverTime: InstantSchema,
  /** Short audio of the manifest in the message itself (at most EMERGENCY_INLINE_MAX_BYTES). */
  inline: z
    .array(InlineBlobSchema)
    .max(8)
    .refine((list) => list.reduce((n, b) => n + b.data.length, 0) <= INLINE_MAX_BASE64, {
      message: `inline audio over ${EMERGENCY_INLINE_MAX_BYTES} bytes`,
    })
    .optional(),
});
export type Emergency = z.infer<typeof EmergencySchema>;

/** Server → device: proofs up to and including `upToSeq` are stored durably. */
export const AckSchema = z.strictObject({ upToSeq: z.number().int().min(0), serverTime: InstantSchema });
export type Ack = z.infer<typeof AckSchema>;

/**
 * Time over MQTT, the way SNTP does it: a device sends `d/{id}/time-req` with a fresh id and
 * notes its own send instant; the server answers at once on `d/{id}/time` (QoS 0) with its clock.
 * The device takes serverTime + rtt/2 with an uncertainty of rtt/2. Server times carried by acks
 * and notifications have no round trip to go with them, so they only serve until this answers.
 */
export const TimeRequestSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a time request id is 1–64 letters, digits, "_" or "-"'),
});
export type TimeRequest = z.infer<typeof TimeRequestSchema>;
export const TimeReplySchema = z.strictObject({ id: TimeRequestSchema.shape.id, serverTime: InstantSchema });
export type TimeReply = z.infer<typeof TimeReplySchema>;

export const CommandMessageSchema = CommandSchema;

export const CommandResultSchema = z.strictObject({
  id: z.uuid(),
  ok: z.boolean(),
  code: z.string().max(64).optional(),
  message: z.string().max(500).optional(),
  at: InstantSchema,
});
export type CommandResult = z.infer<typeof CommandResultSchema>;
