/**
 * Composes a bundle manifest (unsigned body) from an editor's draft and the content library. Pure:
 * the id, version and time come from the caller.
 */
import {
  BUNDLE_FORMAT,
  ChannelSchema,
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

export const DraftItemSchema = z.strictObject({
  /** Content library id. */
  content: IdSchema,
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

export const BundleDraftSchema = z.strictObject({
  channel: ChannelSchema,
  description: z.string().max(2000).optional(),
  items: z.array(DraftItemSchema).min(1).max(1000),
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

/**
 * Builds and validates the manifest body. Throws BUNDLE_INVALID (with the schema's findings) or
 * CONTENT_NOT_FOUND.
 */
export function composeManifest(
  draft: BundleDraft,
  content: ReadonlyMap<string, ContentLike>,
  opts: { version: number; now: Date; id?: string },
): ManifestBody {
  const items = draft.items.map((d) => {
    const c = content.get(d.content);
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
