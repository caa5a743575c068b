/**
 * The station's agent releases on the data partition, in the layout that the release supervisor
 * (images/rootfs/usr/lib/loa/loa-release-check, run by systemd before every agent start) reads:
 *
 *   <root>/<agentVersion>/          a release tree; whole when it holds .loa-release-complete
 *   <root>/<agentVersion>.json      its verified release document
 *   <root>/current                  symlink to the release systemd starts (or the factory tree)
 *   <root>/trial                    key=value lines while a new release is on trial
 *   <root>/last-rollback            key=value lines about the supervisor's last rollback
 *
 * Order of an update, each step durable before the next: tree extracted beside the running one
 * (staging directory renamed), release document written, trial written, `current` switched by
 * renaming a new symlink over it. A power cut before the switch leaves the old release running
 * (the supervisor drops a trial whose version `current` does not name); after it, the new one on
 * trial, rolled back by the supervisor after too many starts or past its deadline.
 */
import { readdir, readFile, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Release, ReleaseSchema } from '@loa/protocol';
import {
  fsyncDir,
  RELEASE_COMPLETE_FILE,
  unpackRelease,
  writeFileAtomic,
  writeJsonAtomic,
} from '@loa/protocol/fs';
import { ensureDir, exists } from './data-dir.js';

export interface TrialState {
  version: string;
  previous: string;
  release: number;
  id: string;
  /** Epoch seconds. */
  deadline: number;
  starts: number;
  maxStarts: number;
}

export interface RollbackRecord {
  version: string;
  release: number;
  id: string;
  restored: string;
  reason: string;
  at: number;
}

export interface RunningRelease {
  /** What `current` names: a version directory, or the factory path. */
  name: string;
  /** The release document of a release installed over the air (absent: the factory one). */
  release?: Release;
}

function parseLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function readLines(path: string): Promise<Record<string, string> | undefined> {
  try {
    return parseLines(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class ReleaseDir {
  constructor(
    readonly root: string,
    /** The release in the read-only image, used when nothing else can start. */
    readonly factory: string,
    /** Called after each durable step of an update (tests cut the power there). */
    private readonly onStep?: (step: string) => void | Promise<void>,
  ) {}

  path(name: string): string {
    return join(this.root, name);
  }

  async current(): Promise<string | undefined> {
    try {
      return await readlink(this.path('current'));
    } catch {
      return undefined;
    }
  }

  async running(): Promise<RunningRelease> {
    const name = (await this.current()) ?? this.factory;
    if (name === this.factory) return { name };
    try {
      const release = ReleaseSchema.parse(JSON.parse(await readFile(this.path(`${name}.json`), 'utf8')));
      return { name, release };
    } catch {
      return { name };
    }
  }

  async isComplete(version: string): Promise<boolean> {
    return exists(join(this.path(version), RELEASE_COMPLETE_FILE));
  }

  /**
   * Extracts a verified artifact as `<agentVersion>` beside the running release (replacing an
   * incomplete or older copy that is not running) and writes its release document.
   */
  async install(release: Release, artifact: string): Promise<void> {
    const onStep = this.onStep;
    await ensureDir(this.root, 0o755);
    const v = release.agentVersion;
    if ((await this.current()) === v) throw new Error(`release ${v} is the one running`);
    await rm(this.path(v), { recursive: true, force: true });
    await unpackRelease(artifact, this.path(v), onStep ? { onStep } : {});
    await onStep?.('extracted');
    await writeJsonAtomic(this.path(`${v}.json`), release);
    await onStep?.('documented');
  }

  /** Puts `release` on trial and switches `current` to it (the caller then restarts the agent). */
  async switchTo(release: Release, deadline: number, maxStarts: number): Promise<TrialState> {
    const v = release.agentVersion;
    if (!(await this.isComplete(v))) throw new Error(`release ${v} is not installed`);
    const trial: TrialState = {
      version: v,
      previous: (await this.current()) ?? this.factory,
      release: release.version,
      id: release.id,
      deadline,
      starts: 0,
      maxStarts,
    };
    const onStep = this.onStep;
    await writeFileAtomic(
      this.path('trial'),
      `${Object.entries(trial)
        .map(([k, val]) => `${k}=${val}`)
        .join('\n')}\n`,
    );
    const next = this.path('current.new');
    await onStep?.('trial');
    await rm(next, { force: true });
    await symlink(v, next);
    await onStep?.('linked');
    await rename(next, this.path('current'));
    await fsyncDir(this.root);
    await onStep?.('switched');
    return trial;
  }

  async trial(): Promise<TrialState | undefined> {
    const t = await readLines(this.path('trial'));
    if (!t) return undefined;
    return {
      version: t.version ?? '',
      previous: t.previous ?? '',
      release: Number(t.release),
      id: t.id ?? '',
      deadline: Number(t.deadline),
      starts: Number(t.starts),
      maxStarts: Number(t.maxStarts),
    };
  }

  /** The running release is good: the trial ends and it stays. Older trees are removed. */
  async confirm(): Promise<void> {
    const t = await this.trial();
    const cur = await this.current();
    if (!t || t.version !== cur) return;
    await unlink(this.path('trial'));
    await fsyncDir(this.root);
    await this.prune(new Set([cur, t.previous]));
  }

  async lastRollback(): Promise<RollbackRecord | undefined> {
    const r = await readLines(this.path('last-rollback'));
    if (!r) return undefined;
    return {
      version: r.version ?? '',
      release: Number(r.release),
      id: r.id ?? '',
      restored: r.restored ?? '',
      reason: r.reason ?? '',
      at: Number(r.at),
    };
  }

  /** The rollback was reported to the server: the record is kept as last-rollback.reported. */
  async rollbackReported(): Promise<void> {
    await rename(this.path('last-rollback'), this.path('last-rollback.reported'));
    await fsyncDir(this.root);
  }

  /** Removes release trees and documents other than `keep` (and leftovers of interrupted installs). */
  async prune(keep: Set<string>): Promise<void> {
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      const base = name.endsWith('.json') ? name.slice(0, -5) : name;
      if (keep.has(base) || ['current', 'trial', 'last-rollback', 'last-rollback.reported'].includes(name))
        continue;
      const full = this.path(name);
      const st = await stat(full).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory() || name.endsWith('.json') || name.startsWith('.'))
        await rm(full, { recursive: true, force: true });
    }
    await fsyncDir(this.root);
  }
}
