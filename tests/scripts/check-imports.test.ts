import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { circles, readGraph, violations } from '../../scripts/src/check/imports.js';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'loa-imports-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  root = dir;
  return dir;
}

describe('import graph check', () => {
  it('finds a circle, type-only imports included', () => {
    const dir = tree({
      'fleet-server/src/http/app.ts':
        "import { registerA } from './routes/a.js';\nexport const x = registerA;\n",
      'fleet-server/src/http/routes/a.ts':
        "import type { Ctx } from '../app.js';\nexport const registerA = (c: Ctx) => c;\n",
      'fleet-server/src/domain/ok.ts': "import { z } from 'zod';\nexport const y = z;\n",
    });
    const g = readGraph(dir);
    expect(g.files).toHaveLength(3);
    expect(circles(g.files, g.edges)).toEqual([
      ['fleet-server/src/http/app.ts', 'fleet-server/src/http/routes/a.ts'],
    ]);
  });

  it('names upward imports, imports of a composition root and relative reaches into another workspace', () => {
    const dir = tree({
      'fleet-server/src/domain/users.ts':
        "import type { UserRecord } from '../store/types.js';\nexport type U = UserRecord;\n",
      'fleet-server/src/store/types.ts': 'export interface UserRecord { name: string }\n',
      'fleet-server/src/http/ui/index.tsx':
        "import type { Plugin } from '../../main.js';\nexport type P = Plugin;\n",
      'fleet-server/src/main.ts': 'export interface Plugin { name: string }\n',
      'fleet-server/src/cli.ts': "import './main.js';\n",
      'agent/src/drivers/gpio/sim.ts':
        "import type { Clock } from '../../services/contracts.js';\nexport type C = Clock;\n",
      'agent/src/services/contracts.ts': 'export interface Clock { now(): number }\n',
      'scripts/bench/dash.ts':
        "import '../../fleet-server/src/store/types.js';\nimport '@loa/fleet-server';\n",
    });
    const g = readGraph(dir);
    const bad = violations(g.edges);
    expect(bad).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^fleet-server\/src\/domain\/users\.ts -> fleet-server\/src\/store\/types\.ts: the server domain/,
        ),
        expect.stringMatching(
          /^fleet-server\/src\/http\/ui\/index\.tsx -> fleet-server\/src\/main\.ts: nothing but the program's entry points/,
        ),
        expect.stringMatching(
          /^agent\/src\/drivers\/gpio\/sim\.ts -> agent\/src\/services\/contracts\.ts: drivers are thin/,
        ),
        expect.stringMatching(
          /^scripts\/bench\/dash\.ts -> fleet-server\/src\/store\/types\.ts: reach another workspace/,
        ),
      ]),
    );
    // The CLI entry point may import main.ts, and a package-name import is the public way in.
    expect(bad.some((b) => b.startsWith('fleet-server/src/cli.ts'))).toBe(false);
    expect(bad.filter((b) => b.startsWith('scripts/bench/dash.ts'))).toHaveLength(1);
    expect(bad).toHaveLength(4);
  });
});
