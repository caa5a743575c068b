/**
 * The demo's first start seeds its data (30–40 s). A marker file, written before the server
 * first touches an empty data directory and removed once `demo-state.json` is written, says
 * "this directory holds an unfinished demo seed". When `npm start` finds the marker without the
 * state file (Ctrl-C, a crash or a power cut during seeding), it clears what the interrupted run
 * left (everything but the demo root key) and seeds again, instead of refusing the directory.
 * A directory without the marker is never cleared: it may hold real data.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SEEDING_MARKER = 'demo-seeding.json';
export const DEMO_STATE = 'demo-state.json';
/** Kept across a redo: the demo trust root (stations and signatures keep trusting it). */
const KEEP = new Set(['demo-keys', SEEDING_MARKER]);

export type SeedingStart = 'fresh' | 'redo' | 'seeded' | 'foreign';

/**
 * Prepares the data directory before the server starts:
 *   'seeded'  — a finished demo (state file present): nothing to do;
 *   'fresh'   — empty or absent: the marker is written, seeding may start;
 *   'redo'    — an interrupted seed (marker, no state): cleared, marker kept, seed again;
 *   'foreign' — server data without marker or state: left alone (the caller refuses it).
 */
export function prepareDemoDir(dataDir: string, now: () => Date = () => new Date()): SeedingStart {
  if (existsSync(join(dataDir, DEMO_STATE))) return 'seeded';
  const marker = join(dataDir, SEEDING_MARKER);
  const entries = existsSync(dataDir) ? readdirSync(dataDir) : [];
  if (existsSync(marker)) {
    for (const name of entries)
      if (!KEEP.has(name)) rmSync(join(dataDir, name), { recursive: true, force: true });
    return 'redo';
  }
  if (entries.some((n) => !KEEP.has(n))) return 'foreign';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(marker, `${JSON.stringify({ startedAt: now().toISOString() })}\n`, { mode: 0o600 });
  return 'fresh';
}

/** Seeding finished (the state file is written): the directory is a demo like any other. */
export function finishSeeding(dataDir: string): void {
  rmSync(join(dataDir, SEEDING_MARKER), { force: true });
}
