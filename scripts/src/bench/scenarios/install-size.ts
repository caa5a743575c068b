/**
 * The station's installed node_modules: the agent's production dependency tree (as
 * `npm ls --omit=dev --all -w @loa/agent` resolves it from this checkout's lockfile, no network),
 * copied to a scratch directory, then pruned with images/prune-node-modules.sh (the rules
 * images/build-agent.sh applies). The baseline is the same tree before pruning, in the same run.
 * Workspace packages (@loa/protocol) are not counted: the image carries their compiled dist.
 * Native add-ons are counted as npm unpacked them (prebuilds included, nothing compiled).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { figure, type Scenario } from '../harness.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const GOAL_MB = 30;

function bytesIn(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += bytesIn(p);
    else if (e.isFile()) total += lstatSync(p).size;
  }
  return total;
}

export const installSize: Scenario = {
  name: 'install',
  title: 'Agent install: production node_modules, pruned, beside the same tree unpruned',
  budgetMs: { quick: 60_000, full: 60_000 },
  async run(ctx) {
    // npm ls exits non-zero when the checkout has an extraneous or mismatched package elsewhere;
    // the tree it prints is still the agent's resolved production tree.
    let text: string;
    try {
      text = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', '@loa/agent'], {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch (e) {
      text = String((e as { stdout?: string }).stdout ?? '');
    }
    const listed = text.split('\n').filter((p) => p.includes(`${sep}node_modules${sep}`));
    const nm = join(repo, 'node_modules');
    const out = join(ctx.tmpDir, 'node_modules');
    let packages = 0;
    for (const p of listed) {
      const real = realpathSync(p);
      if (!real.startsWith(nm)) continue; // a workspace (symlinked) package
      const rel = relative(nm, p);
      cpSync(p, join(out, rel), {
        recursive: true,
        filter: (src) => !src.slice(p.length).includes(`${sep}node_modules`),
      });
      packages++;
    }
    const before = bytesIn(out);
    execFileSync(join(repo, 'images/prune-node-modules.sh'), [out]);
    const after = bytesIn(out);
    const mb = (b: number) => Math.round(b / 100_000) / 10;
    ctx.log(`install: ${packages} packages, ${mb(before)} MB → ${mb(after)} MB`);
    return {
      figures: [
        figure('install-pruned', "agent's installed node_modules (production, pruned)", mb(after), 'MB', {
          baseline: { label: 'same tree unpruned', value: mb(before), unit: 'MB' },
          goal: { better: 'lower', limit: GOAL_MB, text: `≤ ${GOAL_MB} MB (issue 13)` },
        }),
      ],
      notes: [
        `${packages} packages from \`npm ls --omit=dev --all -w @loa/agent\` copied from this checkout, pruned by images/prune-node-modules.sh; sizes are the sum of file sizes (MB = 10^6 B), without @loa/protocol's dist and without compiled native add-ons.`,
      ],
    };
  },
};
