/**
 * In-memory keyed collections over the lowdb data object. Every write marks the registry dirty;
 * the write scheduler (registry.ts) coalesces them into one fsync'd file write. Records handed
 * out are frozen: a caller that wants a change must go through update() (which marks dirty).
 */
import { LoaError } from '@loa/protocol';
import type { Repository } from '../ports.js';

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

function clone<T>(o: T): T {
  return structuredClone(o);
}

export interface Index<T> {
  key: (r: T) => string | undefined;
  map: Map<string, string>;
}

export class MemCollection<T extends object> implements Repository<T> {
  private readonly indexes = new Map<string, Index<T>>();
  constructor(
    /** The record object inside the lowdb data (id → record). */
    protected readonly rows: Record<string, T>,
    protected readonly idOf: (r: T) => string,
    /** Upper-case entity name for error codes, e.g. DEVICE → DEVICE_EXISTS. */
    protected readonly entity: string,
    protected readonly changed: () => void,
  ) {
    for (const r of Object.values(rows)) deepFreeze(r);
  }

  /** Declares a unique secondary index (e.g. users by username). */
  addIndex(name: string, key: (r: T) => string | undefined): void {
    const map = new Map<string, string>();
    for (const r of Object.values(this.rows)) {
      const k = key(r);
      if (k !== undefined) map.set(k, this.idOf(r));
    }
    this.indexes.set(name, { key, map });
  }

  byIndex(name: string, value: string): T | undefined {
    const id = this.indexes.get(name)?.map.get(value);
    return id === undefined ? undefined : this.rows[id];
  }

  private unindex(r: T): void {
    for (const ix of this.indexes.values()) {
      const k = ix.key(r);
      if (k !== undefined && ix.map.get(k) === this.idOf(r)) ix.map.delete(k);
    }
  }
  private index(r: T): void {
    for (const ix of this.indexes.values()) {
      const k = ix.key(r);
      if (k !== undefined) ix.map.set(k, this.idOf(r));
    }
  }

  getSync(id: string): T | undefined {
    return Object.hasOwn(this.rows, id) ? this.rows[id] : undefined;
  }

  valuesSync(): T[] {
    return Object.values(this.rows);
  }

  async get(id: string): Promise<T | undefined> {
    return this.getSync(id);
  }

  async list(filter?: (r: T) => boolean): Promise<T[]> {
    const all = Object.values(this.rows);
    return filter ? all.filter(filter) : all;
  }

  async count(filter?: (r: T) => boolean): Promise<number> {
    if (!filter) return Object.keys(this.rows).length;
    let n = 0;
    for (const r of Object.values(this.rows)) if (filter(r)) n++;
    return n;
  }

  async insert(record: T): Promise<T> {
    const id = this.idOf(record);
    if (Object.hasOwn(this.rows, id)) throw new LoaError(`${this.entity}_EXISTS`, `${id} đã tồn tại`);
    return this.putSync(record);
  }

  async update(id: string, patch: Partial<T>): Promise<T> {
    const old = this.getSync(id);
    if (!old) throw new LoaError(`${this.entity}_NOT_FOUND`, `không tìm thấy ${id}`);
    const next = { ...clone(old), ...clone(patch) } as T;
    if (this.idOf(next) !== id) throw new LoaError('VALIDATION_FAILED', 'không được đổi mã định danh');
    for (const k of Object.keys(next) as (keyof T)[]) if (next[k] === undefined) delete next[k];
    return this.putSync(next);
  }

  async put(record: T): Promise<T> {
    return this.putSync(record);
  }

  putSync(record: T): T {
    const id = this.idOf(record);
    const old = this.getSync(id);
    if (old) this.unindex(old);
    const frozen = deepFreeze(clone(record));
    this.rows[id] = frozen;
    this.index(frozen);
    this.changed();
    return frozen;
  }

  async delete(id: string): Promise<boolean> {
    const old = this.getSync(id);
    if (!old) return false;
    this.unindex(old);
    delete this.rows[id];
    this.changed();
    return true;
  }
}
