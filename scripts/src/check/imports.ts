/**
 * `npm run check:imports`: the import graph stays a house with no circles and no stairs run
 * backwards. Reads every source file of the workspaces (type-only imports count: a type that
 * points upward ties the rooms together as much as a value does), then checks
 *   1. no circle of imports between files (Tarjan's strongly connected components), and
 *   2. the layer rules of ARCHITECTURE.md: which folder may import which.
 * Exits 1 with one line per violation. Run with `--graph` to print the edges it saw.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Source roots that are part of the house (tests, fixtures and generated output are not). */
const SOURCE_ROOTS = [
  'protocol/src',
  'agent/src',
  'fleet-server/src',
  'scripts/src',
  'scripts/bench',
  'flows/src',
  'flows/nodes',
];
const EXTENSIONS = ['.ts', '.tsx', '.js', '.mjs', '.cjs'];

/**
 * The layer rules: a file whose path starts with `from` may not import a file whose path starts
 * with any of `to`. Paths are relative to the repository root. Read them as "X must not reach
 * up into Y"; ARCHITECTURE.md draws the same picture.
 */
export const RULES: readonly { from: string; to: readonly string[]; why: string }[] = [
  // Each program is its own house: they share protocol/ alone.
  {
    from: 'protocol/',
    to: ['agent/', 'fleet-server/', 'scripts/', 'flows/'],
    why: 'protocol is the shared contract: it depends on nothing of Loa',
  },
  {
    from: 'agent/',
    to: ['fleet-server/', 'scripts/', 'flows/'],
    why: 'the agent shares protocol/ alone with the server',
  },
  {
    from: 'fleet-server/',
    to: ['agent/', 'scripts/', 'flows/'],
    why: 'the server shares protocol/ alone with the agent',
  },
  // Agent floors: domain (pure) < drivers < services < http/composition.
  {
    from: 'agent/src/domain/',
    to: ['agent/src/drivers/', 'agent/src/services/', 'agent/src/http/'],
    why: 'the agent domain is pure: it knows no driver, service or page',
  },
  {
    from: 'agent/src/drivers/',
    to: ['agent/src/services/', 'agent/src/http/'],
    why: 'drivers are thin and below the services that use them',
  },
  // Server floors: domain (pure) < store < broker/services < http < plugins < composition.
  {
    from: 'fleet-server/src/domain/',
    to: [
      'fleet-server/src/store/',
      'fleet-server/src/broker/',
      'fleet-server/src/services/',
      'fleet-server/src/http/',
      'fleet-server/src/plugins/',
    ],
    why: 'the server domain owns its model and depends on protocol alone',
  },
  {
    from: 'fleet-server/src/store/',
    to: [
      'fleet-server/src/broker/',
      'fleet-server/src/services/',
      'fleet-server/src/http/',
      'fleet-server/src/plugins/',
    ],
    why: 'the store implements the domain ports and knows nothing above them',
  },
  {
    from: 'fleet-server/src/broker/',
    to: ['fleet-server/src/http/', 'fleet-server/src/plugins/', 'fleet-server/src/services/'],
    why: 'the broker calls the domain, not the web side',
  },
  {
    from: 'fleet-server/src/services/',
    to: ['fleet-server/src/http/', 'fleet-server/src/plugins/'],
    why: 'services are handed to routes, never the reverse',
  },
  {
    from: 'fleet-server/src/http/',
    to: ['fleet-server/src/plugins/', 'fleet-server/src/services/index.ts'],
    why: 'http is a leaf: it is handed its services and imports no composition',
  },
];

/**
 * The composition roots, and the entry points of their program that alone may import them
 * (the package's public index and its command line).
 */
const COMPOSITION_ROOTS: Record<string, readonly string[]> = {
  'agent/src/main.ts': ['agent/src/index.ts', 'agent/src/cli.ts'],
  'fleet-server/src/main.ts': ['fleet-server/src/index.ts', 'fleet-server/src/cli.ts'],
};

const workspaceOf = (path: string): string => path.slice(0, path.indexOf('/'));

function walk(dir: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.push(p);
  }
}

/** Resolves a relative specifier the NodeNext way (`./x.js` is `./x.ts` in the source tree). */
function resolveRelative(from: string, spec: string, files: Set<string>): string | undefined {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(m|c)?js$/, '');
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.js`,
    join(base, 'index.ts'),
    join(base, 'index.js'),
  ];
  return candidates.find((c) => files.has(c));
}

/** Package name → folder, for `@loa/<pkg>` specifiers (scripts reach the programs this way). */
const WORKSPACES: Record<string, string> = {
  '@loa/protocol': 'protocol',
  '@loa/agent': 'agent',
  '@loa/fleet-server': 'fleet-server',
  '@loa/scripts': 'scripts',
};

export interface Edge {
  from: string;
  to: string;
  /** A relative path import (not through a package name). */
  relative: boolean;
}

export function readGraph(root = ROOT): { files: string[]; edges: Edge[] } {
  const abs: string[] = [];
  for (const r of SOURCE_ROOTS) walk(join(root, r), abs);
  const set = new Set(abs);
  const edges: Edge[] = [];
  for (const file of abs) {
    const text = readFileSync(file, 'utf8');
    const info = ts.preProcessFile(text, true, true);
    const rel = relative(root, file);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec, set);
        if (target) edges.push({ from: rel, to: relative(root, target), relative: true });
        continue;
      }
      const pkg = Object.keys(WORKSPACES).find((p) => spec === p || spec.startsWith(`${p}/`));
      // A workspace package counts as an edge into its folder (its public entry point).
      if (pkg)
        edges.push({
          from: rel,
          to: `${WORKSPACES[pkg]}/${spec.slice(pkg.length + 1) || 'index'}`,
          relative: false,
        });
    }
  }
  return { files: abs.map((f) => relative(root, f)), edges };
}

/** Strongly connected components with more than one file, or a file importing itself. */
export function circles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const f of files) next.set(f, []);
  for (const e of edges) if (next.has(e.to)) next.get(e.from)?.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  // Iterative Tarjan: the graph can be deep enough to overflow a recursive one.
  for (const start of files) {
    if (idx.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    on.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1] as { v: string; i: number };
      const succ = next.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++] as string;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          on.add(w);
          work.push({ v: w, i: 0 });
        } else if (on.has(w)) low.set(top.v, Math.min(low.get(top.v) as number, idx.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(top.v) as number));
      if (low.get(top.v) === idx.get(top.v)) {
        const comp: string[] = [];
        let w: string | undefined;
        do {
          w = stack.pop() as string;
          on.delete(w);
          comp.push(w);
        } while (w !== top.v);
        const selfLoop = succ.includes(top.v);
        if (comp.length > 1 || selfLoop) out.push(comp.sort());
      }
    }
  }
  return out;
}

export function violations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const entries = COMPOSITION_ROOTS[e.to];
    if (entries && !entries.includes(e.from))
      out.push(`${e.from} -> ${e.to}: nothing but the program's entry points imports its composition root`);
    if (e.relative && workspaceOf(e.from) !== workspaceOf(e.to))
      out.push(
        `${e.from} -> ${e.to}: reach another workspace through its package name (its public entry points)`,
      );
    for (const r of RULES) {
      if (!e.from.startsWith(r.from)) continue;
      const hit = r.to.find((t) => e.to.startsWith(t));
      if (hit) out.push(`${e.from} -> ${e.to}: ${r.why}`);
    }
  }
  return out;
}

function main(): void {
  const { files, edges } = readGraph();
  if (process.argv.includes('--graph')) for (const e of edges) console.log(`${e.from} -> ${e.to}`);
  const circ = circles(files, edges);
  const bad = violations(edges);
  for (const c of circ) console.error(`circle of ${c.length} files: ${c.join(', ')}`);
  for (const v of bad) console.error(`upward import: ${v}`);
  const summary = `imports: ${files.length} files, ${edges.length} imports, ${circ.length} circles, ${bad.length} upward imports`;
  if (circ.length > 0 || bad.length > 0) {
    console.error(`${summary} (see ARCHITECTURE.md for the rules)`);
    process.exit(1);
  }
  console.log(summary);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
