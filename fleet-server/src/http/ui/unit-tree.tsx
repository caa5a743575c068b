/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Choosing target units from a tree of names with their station counts, instead of typing codes:
 * one checkbox per unit (value = the unit path), nested as the administrative hierarchy is.
 */
import type { DeviceRecord, UnitRecord } from '../../domain/model.js';
import { errorText } from './components.js';
import type { FieldErrors, UiCtx } from './context.js';

export interface UnitNode {
  path: string;
  name: string;
  stations: number;
  noticeboards: number;
  children: UnitNode[];
}

const parentOf = (path: string): string | undefined =>
  path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;

/** The units as a forest (a unit whose parent is not given is a root), with subtree device counts. */
export function unitTree(units: Iterable<UnitRecord>, devices: readonly DeviceRecord[]): UnitNode[] {
  const nodes = new Map<string, UnitNode>();
  for (const u of units)
    nodes.set(u.path, { path: u.path, name: u.name, stations: 0, noticeboards: 0, children: [] });
  for (const d of devices) {
    if (d.status !== 'active' && d.status !== 'pending') continue;
    for (let p: string | undefined = d.unit; p; p = parentOf(p)) {
      const n = nodes.get(p);
      if (!n) continue;
      if (d.kind === 'noticeboard') n.noticeboards++;
      else n.stations++;
    }
  }
  const roots: UnitNode[] = [];
  for (const n of nodes.values()) {
    const parent = parentOf(n.path);
    const p = parent ? nodes.get(parent) : undefined;
    if (p) p.children.push(n);
    else roots.push(n);
  }
  const sort = (xs: UnitNode[]) => {
    xs.sort((a, b) => a.name.localeCompare(b.name, 'vi'));
    for (const x of xs) sort(x.children);
  };
  sort(roots);
  return roots;
}

function countText(ctx: UiCtx, n: UnitNode): string {
  const parts = [ctx.t('tree.stations', { n: n.stations })];
  if (n.noticeboards > 0) parts.push(ctx.t('tree.noticeboards', { n: n.noticeboards }));
  return parts.join(', ');
}

function Branch(props: { ctx: UiCtx; nodes: UnitNode[]; name: string; checked: ReadonlySet<string> }) {
  return (
    <ul>
      {props.nodes.map((n) => (
        <li>
          <label title={n.path}>
            <input type="checkbox" name={props.name} value={n.path} checked={props.checked.has(n.path)} />
            <span>{n.name}</span> <small class="muted">{countText(props.ctx, n)}</small>
          </label>
          {n.children.length > 0 ? (
            <Branch ctx={props.ctx} nodes={n.children} name={props.name} checked={props.checked} />
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** A fieldset of nested checkboxes; errors show like a Field's (data-error-for = name). */
export function UnitTreeField(props: {
  ctx: UiCtx;
  name: string;
  label: string;
  hint?: string;
  tree: UnitNode[];
  checked: ReadonlySet<string>;
  errors?: FieldErrors | undefined;
  /** The form error key when it differs from the field name. */
  errorFor?: string;
}) {
  const key = props.errorFor ?? props.name;
  const err = errorText(props.ctx, props.errors, key);
  return (
    <fieldset class={err ? 'field unit-tree invalid' : 'field unit-tree'} id={`f-${props.name}`}>
      <legend>{props.label}</legend>
      {props.hint ? <small class="hint">{props.hint}</small> : null}
      <Branch ctx={props.ctx} nodes={props.tree} name={props.name} checked={props.checked} />
      {err ? (
        <p class="error" data-error-for={key} role="alert">
          {err}
        </p>
      ) : null}
    </fieldset>
  );
}
