/**
 * The province's administrative boundaries for the map: `<dataDir>/boundaries.geojson`, read when
 * it changes (by mtime and size) and checked with {@link parseBoundaries}. Absent: no boundaries.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Boundaries, parseBoundaries } from '../domain/boundaries.js';

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
}
