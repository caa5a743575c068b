/**
 * Composes a bundle manifest (unsigned body) from an editor's draft and the content library. Pure:
 * the id, version and time come from the caller.
 */
import {
  BUNDLE_FORMAT,
  ChannelSchema,
  FmFrequencySchema,
  IdSchema,
  InstantSchema,
  type Item,
  LoaError,
  type ManifestBody,
  ManifestBodySchema,
  PrioritySchema,
  QuietHoursSchema,
  ScheduleEntrySchema,
  TargetSchema,
  UtcOffsetSchema,
} from '@loa/protocol';
import { z } from 'zod';

/** Vietnam is UTC+7 all year. */
export const DEFAULT_UTC_OFFSET = '+07:00';
export const DEFAULT_VALID_DAYS = 30;

/**
 * A live relay in a draft (no content library entry): a stream (Icecast/HTTP, HLS) or the
 * station's FM module, with its fallback chain: an FM frequency, then a recording from the
 * content library, then silence (the station raises an alert). Signing it needs the `live` role.
 */
export const DraftLiveSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('stream'),
    url: z.url({ protocol: /^https?$/ }).max(2000),
    format: z.enum(['mp3', 'aac', 'ogg', 'hls']).optional(),
  }),
  z.strictObject({
    kind: z.literal('fm'),
    frequencyMHz: FmFrequencySchema,
    level: z.number().int().min(0).max(15).optional(),
  }),
]);
export const DraftFallbackSchema = z.strictObject({
  fmMHz: FmFrequencySchema.optional(),
  /** Content library id of an audio recording cached on the stations. */
  recording: IdSchema.optional(),
  failoverMs: z.number().int().min(500).max(600_000).optional(),
  normalize: z.boolean().optional(),
});

export const DraftItemSchema = z.strictObject({
  /** Content library id (absent for a live relay). */
  content: IdSchema.optional(),
  /** A live relay instead of library content. */
  live: DraftLiveSchema.optional(),
  /** Live relays: the fallback chain and how the source is relayed. */
  fallback: DraftFallbackSchema.optional(),
  /** Item id in the manifest; defaults to the content id. */
  id: IdSchema.optional(),
  title: z.string().min(1).max(300).optional(),
  priority: PrioritySchema.default('normal'),
  durationMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600_000)
    .optional(),
  gainDb: z.number().min(-30).max(6).optional(),
  chime: z.boolean().optional(),
  onInterrupt: z.enum(['resume', 'restart', 'skip']).optional(),
});

const DraftItemChecked = DraftItemSchema.superRefine((d, ctx) => {
  if ((d.content === undefined) === (d.live === undefined))
    ctx.addIssue({
      code: 'custom',
      message: 'cần đúng một trong hai: content (nội dung) hoặc live (tiếp sóng)',
    });
  if (d.live && !d.title)
    ctx.addIssue({ code: 'custom', message: 'mục tiếp sóng cần tiêu đề', path: ['title'] });
  if (d.fallback && !d.live)
    ctx.addIssue({ code: 'custom', message: 'chỉ mục tiếp sóng có nguồn dự phòng', path: ['fallback'] });
});

export const BundleDraftSchema = z.strictObject({
  channel: ChannelSchema,
  description: z.string().max(2000).optional(),
  items: z.array(DraftItemChecked).min(1).max(1000),
  schedule: z.array(ScheduleEntrySchema).max(1000).optional(),
  quietHours: z.array(QuietHoursSchema).max(8).optional(),
  targets: z.array(TargetSchema).min(1).max(1000),
  notBefore: InstantSchema.optional(),
  expires: InstantSchema.optional(),
  utcOffset: UtcOffsetSchema.optional(),
});
export type BundleDraft = z.infer<typeof BundleDraftSchema>;

/** What composing needs to know about a content library entry. */
export interface ContentLike {
  id: string;
  kind: 'audio' | 'image' | 'video' | 'text';
  title: string;
  lang: string;
  category?: string;
  sha256?: string;
  size?: number;
  mediaType?: string;
  text?: string;
  durationMs?: number;
  issuer?: string;
  dated?: string;
}

export function bundleIdFor(channel: string, version: number): string {
  return `${channel}-v${version}`;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(gói tin)'}: ${i.message}`)
    .join('; ');
}

export function itemFromContent(
  c: ContentLike,
  d: Omit<z.input<typeof DraftItemSchema>, 'content'> & { priority: Item['priority'] },
): Item {
  const item: Item = {
    id: d.id ?? c.id,
    title: d.title ?? c.title,
    kind: c.kind,
    priority: d.priority,
    lang: c.lang,
  };
  if (c.sha256 && c.size !== undefined && c.mediaType)
    item.blob = { sha256: c.sha256, size: c.size, mediaType: c.mediaType };
  if (c.text !== undefined) item.text = c.text;
  const duration = d.durationMs ?? c.durationMs;
  if (duration !== undefined) item.durationMs = duration;
  if (c.category) item.category = c.category;
  if (c.issuer) item.issuer = c.issuer;
  if (c.dated) item.dated = c.dated;
  if (d.gainDb !== undefined) item.gainDb = d.gainDb;
  if (d.chime !== undefined) item.chime = d.chime;
  if (d.onInterrupt !== undefined) item.onInterrupt = d.onInterrupt;
  return item;
}

/** Content library ids a draft refers to: its items and their fallback recordings. */
export function draftContentIds(draft: BundleDraft): string[] {
  const ids = new Set<string>();
  for (const d of draft.items) {
    if (d.content) ids.add(d.content);
    if (d.fallback?.recording) ids.add(d.fallback.recording);
  }
  return [...ids];
}

/** A live relay item (stream or FM) with its fallback chain. */
export function liveItem(
  d: z.infer<typeof DraftItemSchema> & { priority: Item['priority'] },
  index: number,
  content: ReadonlyMap<string, ContentLike>,
): Item {
  const live = d.live!;
  const item: Item = {
    id: d.id ?? (live.kind === 'stream' ? `tiep-song-${index + 1}` : `fm-${index + 1}`),
    title: d.title ?? 'Tiếp sóng',
    kind: live.kind,
    priority: d.priority,
    lang: 'vi',
  };
  if (live.kind === 'stream') {
    item.url = live.url;
    if (live.format) item.format = live.format;
  } else
    item.fm = { frequencyMHz: live.frequencyMHz, ...(live.level !== undefined ? { level: live.level } : {}) };
  if (d.durationMs !== undefined) item.durationMs = d.durationMs;
  if (d.gainDb !== undefined) item.gainDb = d.gainDb;
  if (d.onInterrupt !== undefined) item.onInterrupt = d.onInterrupt;
  const f = d.fallback;
  if (f) {
    const fallback: NonNullable<Item['relay']>['fallback'] = [];
    if (f.fmMHz !== undefined) fallback.push({ type: 'fm', frequencyMHz: f.fmMHz });
    if (f.recording) {
      const c = content.get(f.recording);
      if (!c)
        throw new LoaError('CONTENT_NOT_FOUND', `Không tìm thấy bản ghi dự phòng "${f.recording}"`, {
          details: { content: f.recording },
        });
      if (c.kind !== 'audio' || !c.sha256 || c.size === undefined || !c.mediaType)
        throw new LoaError('BUNDLE_INVALID', `Bản ghi dự phòng "${c.title}" phải là âm thanh`);
      fallback.push({ type: 'recording', blob: { sha256: c.sha256, size: c.size, mediaType: c.mediaType } });
    }
    item.relay = {
      ...(fallback.length ? { fallback } : {}),
      ...(f.failoverMs !== undefined ? { failoverMs: f.failoverMs } : {}),
      ...(f.normalize !== undefined ? { normalize: f.normalize } : {}),
    };
  }
  return item;
}

/**
 * Builds and validates the manifest body. Throws BUNDLE_INVALID (with the schema's findings) or
 * CONTENT_NOT_FOUND.
 */
export function composeManifest(
  draft: BundleDraft,
  content: ReadonlyMap<string, ContentLike>,
  opts: { version: number; now: Date; id?: string },
): ManifestBody {
  const items = draft.items.map((d, i) => {
    if (d.live) return liveItem(d, i, content);
    const c = content.get(d.content ?? '');
    if (!c)
      throw new LoaError('CONTENT_NOT_FOUND', `Không tìm thấy nội dung "${d.content}"`, {
        details: { content: d.content },
      });
    return itemFromContent(c, d);
  });
  const created = opts.now.toISOString();
  const expires =
    draft.expires ?? new Date(opts.now.getTime() + DEFAULT_VALID_DAYS * 86_400_000).toISOString();
  const body: Record<string, unknown> = {
    type: 'loa-bundle',
    format: BUNDLE_FORMAT,
    id: opts.id ?? bundleIdFor(draft.channel, opts.version),
    channel: draft.channel,
    version: opts.version,
    created,
    expires,
    utcOffset: draft.utcOffset ?? DEFAULT_UTC_OFFSET,
    targets: draft.targets,
    items,
  };
  if (draft.notBefore) body.notBefore = draft.notBefore;
  if (draft.schedule) body.schedule = draft.schedule;
  if (draft.quietHours) body.quietHours = draft.quietHours;
  if (draft.description) body.description = draft.description;
  const parsed = ManifestBodySchema.safeParse(body);
  if (!parsed.success)
    throw new LoaError('BUNDLE_INVALID', `Gói tin không hợp lệ: ${describe(parsed.error)}`, {
      cause: parsed.error,
    });
  return parsed.data;
}

/** Distinct top unit paths of a manifest's targets (for scope checks). */
export function targetUnits(targets: readonly { unit: string }[]): string[] {
  return [...new Set(targets.map((t) => t.unit))];
}
