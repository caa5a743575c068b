/**
 * A small collection kept in a JSON file of its own (`{ "<key>": [records…] }`), written
 * atomically and fsync'd on every change: for collections that change rarely and predate the
 * registry (webhook subscriptions in `webhooks.json`), so their files stay as they were.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LoaError } from '@loa/protocol';
import { removeStaleTemps, writeJsonAtomic } from '@loa/protocol/fs';
import type { Repository } from '../ports.js';
import { deepFreeze } from './collections.js';

export class JsonFileCollection<T extends object> implements Repository<T> {
  private rows: T[] = [];
  private writing: Promise<void> = Promise.resolve();
  constructor(
    private readonly file: string,
    /** Property of the file's object that holds the array. */
    private readonly key: string,
    private readonly entity: string,
    private readonly idOf: (r: T) => string,
  ) {}

  async start(): Promise<void> {
    await removeStaleTemps(this.file);
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, unknown>;
      const rows = parsed[this.key];
      this.rows = Array.isArray(rows) ? (rows as T[]).map((r) => deepFreeze(r)) : [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new LoaError(`${this.entity}_CORRUPT`, `cannot read ${this.file}`, { cause: e });
    }
  }

  private save(): Promise<void> {
    const snapshot = this.rows;
    const next = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await writeJsonAtomic(this.file, { [this.key]: snapshot }, { mode: 0o600 });
    });
    this.writing = next.catch(() => {});
    return next;
  }

  async get(id: string): Promise<T | undefined> {
    return this.rows.find((r) => this.idOf(r) === id);
  }
  async list(filter?: (r: T) => boolean): Promise<T[]> {
    return filter ? this.rows.filter(filter) : [...this.rows];
  }
  async count(filter?: (r: T) => boolean): Promise<number> {
    return (await this.list(filter)).length;
  }
  async insert(record: T): Promise<T> {
    const id = this.idOf(record);
    if (this.rows.some((r) => this.idOf(r) === id))
      throw new LoaError(`${this.entity}_EXISTS`, `${id} đã tồn tại`);
    const rec = deepFreeze(structuredClone(record));
    this.rows = [...this.rows, rec];
    await this.save();
    return rec;
  }
  async update(id: string, patch: Partial<T>): Promise<T> {
    const old = await this.get(id);
    if (!old) throw new LoaError(`${this.entity}_NOT_FOUND`, `không tìm thấy ${id}`);
    const next = { ...structuredClone(old), ...structuredClone(patch) } as T;
    if (this.idOf(next) !== id) throw new LoaError('VALIDATION_FAILED', 'không được đổi mã định danh');
    for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
    return this.put(next);
  }
  async put(record: T): Promise<T> {
    const id = this.idOf(record);
    const rec = deepFreeze(structuredClone(record));
    const i = this.rows.findIndex((r) => this.idOf(r) === id);
    this.rows = i < 0 ? [...this.rows, rec] : this.rows.map((r, j) => (j === i ? rec : r));
    await this.save();
    return rec;
  }
  async delete(id: string): Promise<boolean> {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => this.idOf(r) !== id);
    if (this.rows.length === before) return false;
    await this.save();
    return true;
  }
}
