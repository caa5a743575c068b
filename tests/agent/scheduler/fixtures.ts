/** Builds schema-valid manifests for scheduler tests (signatures are not the scheduler's business). */
import { type Item, type Manifest, ManifestSchema, type ScheduleEntry } from '@loa/protocol';
import type { PlanBundle } from '../../../agent/src/domain/scheduler/types.js';

export const SHA = (n: number) => n.toString(16).padStart(64, '0');

export function audioItem(id: string, durationMs: number, extra: Partial<Item> = {}): Item {
  return {
    id,
    title: `Bản tin ${id}`,
    kind: 'audio',
    priority: 'normal',
    lang: 'vi',
    blob: { sha256: SHA(id.length * 7 + id.charCodeAt(0)), size: 1000, mediaType: 'audio/mpeg' },
    durationMs,
    ...extra,
  } as Item;
}

export function bundle(
  opts: {
    id?: string;
    version?: number;
    channel?: string;
    items: Item[];
    schedule: ScheduleEntry[];
    created?: string;
    expires?: string;
    notBefore?: string;
    quietHours?: { start: string; end: string }[];
    utcOffset?: string;
    /** Default: the province 08. */
    targets?: { unit: string }[];
  },
  activatedAt = Date.parse(opts.created ?? '2026-11-01T00:00:00Z'),
): PlanBundle {
  const m: Manifest = ManifestSchema.parse({
    type: 'loa-bundle',
    format: 1,
    id: opts.id ?? 'b1',
    channel: opts.channel ?? 'main',
    version: opts.version ?? 1,
    created: opts.created ?? '2026-11-01T00:00:00Z',
    expires: opts.expires ?? '2027-01-01T00:00:00Z',
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.quietHours ? { quietHours: opts.quietHours } : {}),
    ...(opts.utcOffset ? { utcOffset: opts.utcOffset } : {}),
    targets: opts.targets ?? [{ unit: '08' }],
    items: opts.items,
    schedule: opts.schedule,
    signatures: [],
  });
  return { manifest: m, blobDir: '/data/blobs', activatedAt };
}
