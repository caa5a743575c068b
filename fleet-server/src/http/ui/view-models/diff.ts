/** What a submitted bundle changes against the published version of its channel (pure). */
import type { Manifest, ScheduleEntry } from '@loa/protocol';

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface Change {
  kind: ChangeKind;
  /** 'item' | 'schedule' | 'target' | 'quiet' | 'validity' */
  what: string;
  id: string;
  before?: string;
  after?: string;
}

function itemText(m: Manifest, id: string): string {
  const i = m.items.find((x) => x.id === id);
  if (!i) return id;
  const parts = [i.title, i.kind, i.priority, i.lang];
  if (i.category) parts.push(i.category);
  if (i.blob) parts.push(`sha256:${i.blob.sha256.slice(0, 12)}`);
  if (i.text !== undefined) parts.push(`"${i.text.slice(0, 60)}"`);
  return parts.join(' · ');
}

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

function diffMaps(
  what: string,
  before: Map<string, string>,
  after: Map<string, string>,
  out: Change[],
): void {
  for (const [id, a] of after) {
    const b = before.get(id);
    if (b === undefined) out.push({ kind: 'added', what, id, after: a });
    else if (b !== a) out.push({ kind: 'changed', what, id, before: b, after: a });
  }
  for (const [id, b] of before) if (!after.has(id)) out.push({ kind: 'removed', what, id, before: b });
}

/** Changes from `prev` (undefined: first version, everything is added) to `next`. */
export function diffManifests(prev: Manifest | undefined, next: Manifest): Change[] {
  const out: Change[] = [];
  const p = prev ?? { ...next, items: [], schedule: [], targets: [], quietHours: [] };
  diffMaps(
    'item',
    new Map(p.items.map((i) => [i.id, itemText(p, i.id)])),
    new Map(next.items.map((i) => [i.id, itemText(next, i.id)])),
    out,
  );
  diffMaps(
    'schedule',
    new Map([...keyed(p.schedule ?? [], (e) => e.id)].map(([k, e]) => [k, ruleText(e)])),
    new Map([...keyed(next.schedule ?? [], (e) => e.id)].map(([k, e]) => [k, ruleText(e)])),
    out,
  );
  const tgt = (t: Manifest['targets'][number]) =>
    `${t.unit}${t.groups ? ` groups:${t.groups.join(',')}` : ''}${t.devices ? ` devices:${t.devices.length}` : ''}`;
  diffMaps(
    'target',
    new Map(p.targets.map((t) => [t.unit, tgt(t)])),
    new Map(next.targets.map((t) => [t.unit, tgt(t)])),
    out,
  );
  const q = (m: Pick<Manifest, 'quietHours'>) =>
    (m.quietHours ?? []).map((x) => `${x.start}-${x.end}`).join(', ');
  if (q(p) !== q(next)) {
    const kind: ChangeKind = !q(p) ? 'added' : !q(next) ? 'removed' : 'changed';
    out.push({ kind, what: 'quiet', id: 'quietHours', before: q(p), after: q(next) });
  }
  if (prev && prev.expires !== next.expires)
    out.push({ kind: 'changed', what: 'validity', id: 'expires', before: prev.expires, after: next.expires });
  return out;
}
