/**
 * A least-recently-used cache bounded by the total size of its values (each value's size given
 * by the caller's estimate when it is stored); the least recently used entries go first once the
 * total passes the bound. A value larger than the whole bound is not kept.
 *
 * Scan resistance: after `newEpoch()`, entries read or stored since are not evicted for a newer
 * one; when nothing older is left to drop, the newer value is simply not kept. A report that
 * reads more windows than the cache holds then keeps its first ones (the next identical report
 * finds those) instead of evicting each window before it is read again, which plain LRU would do.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, { value: V; bytes: number; epoch: number }>();
  #bytes = 0;
  #epoch = 0;
  /** Entries dropped to make room. */
  evictions = 0;
  /** Values not kept (larger than the bound, or no room without dropping the current epoch's). */
  refused = 0;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  /** Starts a unit of work whose entries protect each other from eviction. */
  newEpoch(): void {
    this.#epoch++;
  }

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    // most recently used last
    this.#map.delete(key);
    e.epoch = this.#epoch;
    this.#map.set(key, e);
    return e.value;
  }

  set(key: K, value: V): void {
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#map.delete(key);
    }
    const bytes = this.sizeOf(value);
    if (bytes > this.maxBytes) {
      this.refused++;
      return;
    }
    this.#map.set(key, { value, bytes, epoch: this.#epoch });
    this.#bytes += bytes;
    const protect = this.#epoch > 0;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.maxBytes) return;
      if (k === key || (protect && e.epoch === this.#epoch)) continue;
      this.#map.delete(k);
      this.#bytes -= e.bytes;
      this.evictions++;
    }
    if (this.#bytes > this.maxBytes) {
      this.#map.delete(key);
      this.#bytes -= bytes;
      this.refused++;
    }
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
