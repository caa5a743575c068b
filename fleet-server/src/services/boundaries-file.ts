/**
 * The province's administrative boundaries for the map: `<dataDir>/boundaries.geojson`, read when
 * it changes (by mtime and size) and checked with {@link parseBoundaries}. Absent: no boundaries.
 * An upload replaces it atomically, only once it passed every check: a refused upload leaves the
 * file as it was.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { type Boundaries, checkBoundaryUnits, parseBoundaries } from '../domain/boundaries.js';

export const BOUNDARIES_FILE = 'boundaries.geojson';

export class BoundariesFile {
  readonly path: string;
  #cached: { key: string; value: Boundaries | null } | undefined;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.path = join(dataDir, BOUNDARIES_FILE);
  }

  /** The boundaries, or null when there is no file or it is not valid (logged once per change). */
  async get(): Promise<Boundaries | null> {
    let key: string;
    try {
      const st = await stat(this.path);
      key = `${st.mtimeMs}:${st.size}`;
    } catch {
      return null;
    }
    if (this.#cached?.key === key) return this.#cached.value;
    let value: Boundaries | null = null;
    try {
      value = parseBoundaries(await readFile(this.path, 'utf8'));
    } catch (err) {
      this.logger.warn({ err, path: this.path }, 'boundaries file refused; the map shows no boundaries');
    }
    this.#cached = { key, value };
    return value;
  }

  /** What the map draws now: how many areas, and when the file was last replaced (null: none). */
  async status(): Promise<{ features: number; updatedAt: string } | null> {
    const b = await this.get();
    if (!b) return null;
    const st = await stat(this.path).catch(() => undefined);
    return { features: b.features.length, updatedAt: new Date(st?.mtimeMs ?? 0).toISOString() };
  }

  /**
   * Replaces the file with an upload after checking it (size, JSON, GeoJSON shape, known units);
   * throws the check's LoaError and keeps the old file on a refusal. Answers what was stored.
   */
  async replace(text: string, knownUnits: readonly string[]): Promise<{ features: number; units: string[] }> {
    const b = parseBoundaries(text);
    const units = checkBoundaryUnits(b, knownUnits);
    await writeFileAtomic(this.path, text);
    this.#cached = undefined;
    return { features: b.features.length, units: [...new Set(units)] };
  }
}
