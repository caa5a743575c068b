/**
 * What a submitted bundle changes against the published version of its channel (pure). The words
 * (item, schedule entry, target, date) come from the caller: the approval page passes names and
 * Vietnamese labels; the default is the raw manifest text.
 */
import type { Item, Manifest, ScheduleEntry } from '@loa/protocol';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface Change {
  kind: ChangeKind;
  /** 'item' | 'schedule' | 'target' | 'quiet' | 'validity' */
  what: string;
  id: string;
  /** What the row is about, as people read it (an item's title, a unit's name). */
  label: string;
  before?: string;
  after?: string;
}

/** How each part of a manifest is put into words. */
export interface DiffWords {
  item(i: Item): string;
  /** A schedule entry of `m` (its items may be named by their titles in `m`). */
  entry(e: ScheduleEntry, m: Manifest): string;
  /** A target's unit as a label (its name). */
  unit(path: string): string;
  target(t: Manifest['targets'][number]): string;
  date(iso: string): string;
}

function rawItem(i: Item): string {
  const parts = [i.title, i.kind, i.priority, i.lang];
  if (i.category) parts.push(i.category);
  if (i.blob) parts.push(`sha256:${i.blob.sha256.slice(0, 12)}`);
  if (i.text !== undefined) parts.push(`"${i.text.slice(0, 60)}"`);
  return parts.join(' · ');
}

export const RAW_WORDS: DiffWords = {
  item: rawItem,
  entry: (e) => ruleText(e),
  unit: (p) => p,
  target: (t) =>
    `${t.unit}${t.groups ? ` groups:${t.groups.join(',')}` : ''}${t.devices ? ` devices:${t.devices.length}` : ''}`,
  date: (iso) => iso,
};

export function ruleText(e: ScheduleEntry): string {
  const r = e.rule;
  const base =
    r.type === 'daily'
      ? `daily ${r.times.join(', ')}`
      : r.type === 'weekly'
        ? `weekly ${r.days.join(',')} ${r.times.join(', ')}`
        : r.type === 'once'
          ? `once ${r.at}`
          : 'immediate';
  const rep = e.repeat ? ` ×${e.repeat.count} / ${e.repeat.gapSeconds}s` : '';
  return `${base}${rep} [${e.items.join(', ')}]`;
}

function keyed<T>(list: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(list.map((x) => [key(x), x]));
}

type Described = { text: string; label: string };

function diffMaps(
  what: string,
  before: Map<string, Described>,
  after: Map<string, Described>,
  out: Change[],
): void {
  for (const [id, a] of after) {
    const b = before.get(id);
    if (b === undefined) out.push({ kind: 'added', what, id, label: a.label, after: a.text });
    else if (b.text !== a.text)
      out.push({ kind: 'changed', what, id, label: a.label, before: b.text, after: a.text });
  }
  for (const [id, b] of before)
    if (!after.has(id)) out.push({ kind: 'removed', what, id, label: b.label, before: b.text });
}

/** Changes from `prev` (undefined: first version, everything is added) to `next`. */
export function diffManifests(
  prev: Manifest | undefined,
  next: Manifest,
  words: DiffWords = RAW_WORDS,
): Change[] {
  const out: Change[] = [];
  const p = prev ?? { ...next, items: [], schedule: [], targets: [], quietHours: [] };
  const items = (m: Manifest) => new Map(m.items.map((i) => [i.id, { text: words.item(i), label: i.title }]));
  diffMaps('item', items(p), items(next), out);
  const entries = (m: Manifest) =>
    new Map(
      [...keyed(m.schedule ?? [], (e) => e.id)].map(([k, e]) => [
        k,
        {
          text: words.entry(e, m),
          label: e.items.map((id) => m.items.find((i) => i.id === id)?.title ?? id).join(', '),
        },
      ]),
    );
  diffMaps('schedule', entries(p), entries(next), out);
  const targets = (m: Manifest) =>
    new Map(m.targets.map((t) => [t.unit, { text: words.target(t), label: words.unit(t.unit) }]));
  diffMaps('target', targets(p), targets(next), out);
  const q = (m: Pick<Manifest, 'quietHours'>) =>
    (m.quietHours ?? []).map((x) => `${x.start}-${x.end}`).join(', ');
  if (q(p) !== q(next)) {
    const kind: ChangeKind = !q(p) ? 'added' : !q(next) ? 'removed' : 'changed';
    out.push({ kind, what: 'quiet', id: 'quietHours', label: '', before: q(p), after: q(next) });
  }
  if (prev && prev.expires !== next.expires)
    out.push({
      kind: 'changed',
      what: 'validity',
      id: 'expires',
      label: '',
      before: words.date(prev.expires),
      after: words.date(next.expires),
    });
  return out;
}
