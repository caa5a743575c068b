import { z } from 'zod';
import { SignatureSchema } from './signing.js';
import { UnitPathSchema } from './units.js';

export const BUNDLE_FORMAT = 1;
/** A manifest larger than this is rejected before parsing (MANIFEST_TOO_LARGE). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A SHA-256 as the protocol writes it: 64 lowercase hex characters. */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
export const Sha256Schema = z.string().regex(SHA256_PATTERN, 'a SHA-256 is 64 lowercase hex characters');
/** An ISO 8601 instant with an explicit offset, e.g. 2026-11-26T05:30:00+07:00 or ...Z. */
export const InstantSchema = z.iso.datetime({ offset: true });
/** A local wall-clock time "HH:MM" (24 h) in the bundle's UTC offset. */
export const LocalTimeSchema = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time of day is HH:MM, 00:00 to 23:59');
export const UtcOffsetSchema = z.string().regex(/^[+-](0[0-9]|1[0-4]):[0-5][0-9]$/, 'a UTC offset is ±HH:MM');
/** The patterns of ids and channels (also used by hand-written checks on hot paths). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const CHANNEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const IdSchema = z
  .string()
  .regex(ID_PATTERN, 'an id is letters, digits, ".", "_" or "-" (at most 128)');
export const ChannelSchema = z
  .string()
  .regex(CHANNEL_PATTERN, 'a channel is lowercase letters, digits, ".", "_" or "-"');

/** The three content priorities of Circular 39/2020/TT-BTTTT, lowest to highest. */
export const PrioritySchema = z.enum(['normal', 'priority', 'emergency']);
export type Priority = z.infer<typeof PrioritySchema>;
export const ItemKindSchema = z.enum(['audio', 'image', 'video', 'text', 'stream', 'fm']);
export type ItemKind = z.infer<typeof ItemKindSchema>;
/** BCP 47 language tag, e.g. "vi", "vi-VN", "hmn", "tay", "km". */
export const LanguageSchema = z
  .string()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'a language is a BCP 47 tag such as vi, hmn or tay');

export const BlobRefSchema = z.strictObject({
  sha256: Sha256Schema,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  mediaType: z.string().regex(/^[a-z]+\/[a-zA-Z0-9.+-]+$/, 'a media type such as audio/mpeg'),
});
export type BlobRef = z.infer<typeof BlobRefSchema>;

/** An FM frequency in MHz, 87.0–108.0 in 10 kHz steps. */
export const FmFrequencySchema = z
  .number()
  .min(87)
  .max(108)
  .refine(
    (v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6,
    'an FM frequency is in 10 kHz steps (e.g. 98.7)',
  );

/** One step of a live item's fallback chain: the station's FM module, or a cached recording. */
export const RelayFallbackSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fm'), frequencyMHz: FmFrequencySchema }),
  z.strictObject({ type: z.literal('recording'), blob: BlobRefSchema }),
]);
export type RelayFallback = z.infer<typeof RelayFallbackSchema>;

/**
 * How a live item (stream or FM) is relayed: the fallback chain tried in order when the source
 * fails (after the chain: silence and an alert), how soon to give up on the source, and whether
 * the loudness is normalised on the fly (default true).
 */
export const RelaySchema = z.strictObject({
  fallback: z.array(RelayFallbackSchema).max(4).optional(),
  failoverMs: z.number().int().min(500).max(600_000).optional(),
  normalize: z.boolean().optional(),
});
export type Relay = z.infer<typeof RelaySchema>;

export const ItemSchema = z
  .strictObject({
    id: IdSchema,
    title: z.string().min(1).max(300),
    kind: ItemKindSchema,
    priority: PrioritySchema,
    lang: LanguageSchema,
    /** Content file (audio, image, video; optional for text). */
    blob: BlobRefSchema.optional(),
    /** Text of a bulletin or ticker (kind "text"). */
    text: z.string().max(20_000).optional(),
    /** Live stream address (kind "stream"): http(s) or icecast. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** Live stream container (kind "stream"): mp3, aac, ogg (Vorbis/Opus) or hls; saves the station seconds of probing. */
    format: z.enum(['mp3', 'aac', 'ogg', 'hls']).optional(),
    /** FM item (kind "fm"): the frequency the station's FM module tunes to, and its level 0–15. */
    fm: z
      .strictObject({ frequencyMHz: FmFrequencySchema, level: z.number().int().min(0).max(15).optional() })
      .optional(),
    /** Live items (stream, fm): fallback chain, failover time, loudness normalisation. */
    relay: RelaySchema.optional(),
    /** Duration in milliseconds: play length for audio/video, display time for image/text, cap for stream. */
    durationMs: z
      .number()
      .int()
      .positive()
      .max(24 * 3600_000)
      .optional(),
    category: z.string().max(64).optional(),
    /** Issuing body printed under a bulletin on a noticeboard, e.g. "UBND xã Tân Trào". */
    issuer: z.string().min(1).max(200).optional(),
    /** The bulletin's own date (YYYY-MM-DD) printed under it; absent: the bundle's date. */
    dated: z.iso.date().optional(),
    /** Public web page of the item (a noticeboard shows it as a QR code beside a bulletin). */
    link: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .optional(),
    /** Gain in dB applied on top of the station volume, -30..+6. */
    gainDb: z.number().min(-30).max(6).optional(),
    /** Play the attention chime before the item (defaults to true for emergencies). */
    chime: z.boolean().optional(),
    /** What happens when a higher priority interrupts: resume where it stopped, restart, or skip. */
    onInterrupt: z.enum(['resume', 'restart', 'skip']).optional(),
  })
  .superRefine((item, ctx) => {
    if ((item.kind === 'audio' || item.kind === 'image' || item.kind === 'video') && !item.blob)
      ctx.addIssue({ code: 'custom', message: `a ${item.kind} item needs a blob`, path: ['blob'] });
    if (item.kind === 'text' && item.text === undefined && !item.blob)
      ctx.addIssue({ code: 'custom', message: 'a text item needs text or a blob', path: ['text'] });
    if (item.kind === 'stream' && !item.url)
      ctx.addIssue({ code: 'custom', message: 'a stream item needs a url', path: ['url'] });
    if (item.kind === 'fm' && !item.fm)
      ctx.addIssue({ code: 'custom', message: 'an fm item needs fm.frequencyMHz', path: ['fm'] });
    if (item.relay && item.kind !== 'stream' && item.kind !== 'fm')
      ctx.addIssue({ code: 'custom', message: 'only stream and fm items have a relay', path: ['relay'] });
  });
export type Item = z.infer<typeof ItemSchema>;

export const WeekdaySchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof WeekdaySchema>;

export const ScheduleRuleSchema = z.discriminatedUnion('type', [
  /** Play as soon as received and valid (emergencies, "play now"). */
  z.strictObject({ type: z.literal('immediate') }),
  /** Once at an instant. */
  z.strictObject({ type: z.literal('once'), at: InstantSchema }),
  /** Every day at the given local times. */
  z.strictObject({ type: z.literal('daily'), times: z.array(LocalTimeSchema).min(1).max(48) }),
  /** On the given weekdays at the given local times. */
  z.strictObject({
    type: z.literal('weekly'),
    days: z.array(WeekdaySchema).min(1).max(7),
    times: z.array(LocalTimeSchema).min(1).max(48),
  }),
]);
export type ScheduleRule = z.infer<typeof ScheduleRuleSchema>;

export const QuietHoursSchema = z.strictObject({ start: LocalTimeSchema, end: LocalTimeSchema });
export type QuietHours = z.infer<typeof QuietHoursSchema>;

export const ScheduleEntrySchema = z.strictObject({
  id: IdSchema,
  /** Item ids played in order at each occurrence. */
  items: z.array(IdSchema).min(1).max(200),
  rule: ScheduleRuleSchema,
  /** Repeat the whole sequence N times in all (1 = once) with a gap between repetitions. */
  repeat: z
    .strictObject({
      count: z.number().int().min(1).max(100),
      gapSeconds: z.number().int().min(0).max(86_400),
    })
    .optional(),
  /** Only occurrences inside this window play. */
  validFrom: InstantSchema.optional(),
  validUntil: InstantSchema.optional(),
  /** Station volume 0..100 for this entry. */
  volume: z.number().int().min(0).max(100).optional(),
  /** Filler: plays only when nothing else is due. */
  fill: z.boolean().optional(),
  /** Output zones (names from the station config); absent = all zones. */
  zones: z.array(IdSchema).max(16).optional(),
});
export type ScheduleEntry = z.infer<typeof ScheduleEntrySchema>;

/** Who a bundle is for: a unit subtree, optionally narrowed to groups or devices inside it. */
export const TargetSchema = z.strictObject({
  unit: UnitPathSchema,
  groups: z.array(IdSchema).max(1000).optional(),
  devices: z.array(IdSchema).max(10_000).optional(),
});
export type Target = z.infer<typeof TargetSchema>;

const manifestShape = {
  type: z.literal('loa-bundle'),
  format: z.number().int(),
  id: IdSchema,
  channel: ChannelSchema,
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  created: InstantSchema,
  expires: InstantSchema,
  /** The bundle must not play before this instant (defaults to `created`). */
  notBefore: InstantSchema.optional(),
  /** UTC offset of the schedule's local times; Vietnam is +07:00 all year. */
  utcOffset: UtcOffsetSchema.optional(),
  targets: z.array(TargetSchema).min(1).max(1000),
  items: z.array(ItemSchema).min(1).max(1000),
  schedule: z.array(ScheduleEntrySchema).max(1000).optional(),
  /** Quiet hours carried by the bundle: only emergencies play inside them. */
  quietHours: z.array(QuietHoursSchema).max(8).optional(),
  description: z.string().max(2000).optional(),
};

function refineManifest(m: z.infer<z.ZodObject<typeof manifestShape>>, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  const sizes = new Map<string, number>();
  m.items.forEach((it, i) => {
    if (ids.has(it.id))
      ctx.addIssue({ code: 'custom', message: `duplicate item id ${it.id}`, path: ['items', i] });
    ids.add(it.id);
    // One blob, one size: two items naming the same SHA-256 with different sizes are contradictory.
    for (const blob of itemBlobs(it)) {
      const known = sizes.get(blob.sha256);
      if (known !== undefined && known !== blob.size)
        ctx.addIssue({
          code: 'custom',
          message: `blob ${blob.sha256.slice(0, 12)}… is listed with two sizes`,
          path: ['items', i, 'blob', 'size'],
        });
      sizes.set(blob.sha256, blob.size);
    }
  });
  const entryIds = new Set<string>();
  (m.schedule ?? []).forEach((e, i) => {
    if (entryIds.has(e.id))
      ctx.addIssue({ code: 'custom', message: `duplicate schedule id ${e.id}`, path: ['schedule', i] });
    entryIds.add(e.id);
    e.items.forEach((ref, j) => {
      if (!ids.has(ref))
        ctx.addIssue({ code: 'custom', message: `unknown item ${ref}`, path: ['schedule', i, 'items', j] });
    });
    if (e.validFrom && e.validUntil && Date.parse(e.validFrom) >= Date.parse(e.validUntil))
      ctx.addIssue({ code: 'custom', message: 'validFrom must be before validUntil', path: ['schedule', i] });
  });
  if (Date.parse(m.created) >= Date.parse(m.expires))
    ctx.addIssue({ code: 'custom', message: 'expires must be after created', path: ['expires'] });
}

/** The manifest without signatures (what `loa bundle build` writes before anyone signs). */
export const ManifestBodySchema = z.strictObject(manifestShape).superRefine(refineManifest);
/** A manifest as stored in manifest.json: the body plus `signatures` (possibly empty). */
export const ManifestSchema = z
  .strictObject({ ...manifestShape, signatures: z.array(SignatureSchema).max(32) })
  .superRefine(refineManifest);
export type ManifestBody = z.infer<typeof ManifestBodySchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

/** Live items (relays of a stream or of the FM module) need the `live` role. */
export function isLiveItem(item: Pick<Item, 'kind'>): boolean {
  return item.kind === 'stream' || item.kind === 'fm';
}

/** The signing role each item needs: emergency items need `emergency`, streams and FM `live`, the rest `content`. */
export function roleForItem(item: Pick<Item, 'priority' | 'kind'>): 'content' | 'emergency' | 'live' {
  if (item.priority === 'emergency') return 'emergency';
  if (isLiveItem(item)) return 'live';
  return 'content';
}

/** The blobs an item needs on the station: its content and its fallback recordings. */
export function itemBlobs(item: Pick<Item, 'blob' | 'relay'>): BlobRef[] {
  const out: BlobRef[] = item.blob ? [item.blob] : [];
  for (const f of item.relay?.fallback ?? []) if (f.type === 'recording') out.push(f.blob);
  return out;
}

/** Distinct blobs referenced by a manifest. */
export function manifestBlobs(m: Pick<ManifestBody, 'items'>): BlobRef[] {
  const out = new Map<string, BlobRef>();
  for (const it of m.items) for (const b of itemBlobs(it)) if (!out.has(b.sha256)) out.set(b.sha256, b);
  return [...out.values()];
}
