/**
 * Which programmes still use a content entry (pure): a programme waiting for approval or
 * publication, or the newest published version of its channel that has not expired. Such an entry
 * may be archived (hidden from the pickers) but not deleted.
 */
import type { Item } from '@loa/protocol';
import type { BundleRecord, ContentRecord } from './model.js';

type ContentKey = Pick<ContentRecord, 'id' | 'sha256' | 'text'>;

/** A manifest item carries the content's file (by hash), or its text (a text bulletin has no file). */
function usesContent(item: Item, c: ContentKey): boolean {
  if (c.sha256) return item.blob?.sha256 === c.sha256;
  return item.id === c.id || (c.text !== undefined && item.kind === 'text' && item.text === c.text);
}

/** The bundles that keep `c` in use at `now`, newest first. */
export function bundlesUsing(c: ContentKey, bundles: readonly BundleRecord[], now: number): BundleRecord[] {
  const newest = new Map<string, number>();
  for (const b of bundles)
    if (b.state === 'published' && b.version > (newest.get(b.channel) ?? 0)) newest.set(b.channel, b.version);
  return bundles
    .filter((b) => {
      if (!b.manifest.items.some((i) => usesContent(i, c))) return false;
      if (b.state === 'submitted' || b.state === 'approved') return true;
      return (
        b.state === 'published' && newest.get(b.channel) === b.version && Date.parse(b.manifest.expires) > now
      );
    })
    .sort((a, z) => z.createdAt.localeCompare(a.createdAt));
}
