/**
 * A commune's programme choices on a noticeboard (pure). In the board's schedule an opted-out item
 * is left out by the scheduler like on the loudspeakers (`optedOutBy` per schedule entry). Outside
 * its slots a board also shows items with no time of their own, the default loop and the ticker;
 * there an item stays off when the commune refused every occasion of it: every schedule entry of
 * its bundle that lists it is opted out, or, when no entry lists it, an opt-out that names no
 * entries covers it (its channel or category). Priority and emergency items are never opted out.
 */
import { type Item, type Manifest, optedOutBy } from '@loa/protocol';
import type { StationChoices } from '../scheduler/types.js';

/** The choices document that keeps this item off the board's loop and ticker, or undefined. */
export function boardOptedOutBy(
  choices: readonly StationChoices[],
  m: Pick<Manifest, 'targets' | 'channel' | 'schedule'>,
  item: Pick<Item, 'id' | 'priority' | 'category'>,
): { unit: string; version: number } | undefined {
  if (choices.length === 0 || item.priority !== 'normal') return undefined;
  const entries = (m.schedule ?? []).filter((e) => e.items.includes(item.id));
  if (entries.length === 0) {
    // no entry: only a rule for every entry applies (a rule naming entries names none of these)
    const by = optedOutBy(
      choices.map((c) => ({ ...c, optOut: c.optOut.filter((o) => o.entries === undefined) })),
      m,
      '',
      item,
    );
    return by ? { unit: by.unit, version: by.version } : undefined;
  }
  let first: { unit: string; version: number } | undefined;
  for (const e of entries) {
    const by = optedOutBy(choices, m, e.id, item);
    if (!by) return undefined;
    first ??= { unit: by.unit, version: by.version };
  }
  return first;
}
