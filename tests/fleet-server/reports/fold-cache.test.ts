import { describe, expect, it } from 'vitest';
import {
  emptyFold,
  foldBytes,
  foldProofs,
  itemIndex,
} from '../../../fleet-server/src/domain/reports/fold.js';
import { LruCache } from '../../../fleet-server/src/services/lru-cache.js';
import { BUNDLE, Chains } from './fixture.js';

describe('the report service fold cache', () => {
  it('keeps the most recently used values within its byte bound, oldest out first', () => {
    const c = new LruCache<string, string>(10, (v) => v.length);
    c.set('a', 'xxxx');
    c.set('b', 'xxxx');
    expect(c.get('a')).toBe('xxxx'); // a is now the most recent
    c.set('c', 'xxxx'); // 12 > 10: b goes
    expect([c.get('b'), c.get('a'), c.get('c')]).toEqual([undefined, 'xxxx', 'xxxx']);
    expect([c.size, c.bytes, c.evictions]).toEqual([2, 8, 1]);
    c.set('a', 'xx'); // replacing a value counts its new size only
    expect(c.bytes).toBe(6);
    c.set('huge', 'x'.repeat(11)); // larger than the bound: not kept, nothing dropped for it
    expect([c.get('huge'), c.size, c.evictions]).toEqual([undefined, 2, 1]);
    c.clear();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });

  it('does not evict what the running unit of work uses: a scan larger than the cache keeps its first windows', () => {
    const c = new LruCache<number, string>(30, (v) => v.length);
    const scan = () => {
      c.newEpoch();
      let hits = 0;
      for (let day = 0; day < 5; day++) {
        if (c.get(day) !== undefined) hits++;
        else c.set(day, 'x'.repeat(10));
      }
      return hits;
    };
    expect(scan()).toBe(0);
    expect(c.size).toBe(3); // days 0–2 kept, 3 and 4 not
    expect(c.refused).toBe(2);
    expect(scan()).toBe(3); // plain LRU would find none: each window evicted before it is read again
    // a later, different report evicts the older epoch's windows first
    c.newEpoch();
    c.set(10, 'y'.repeat(10));
    c.set(11, 'y'.repeat(10));
    expect([c.get(10), c.get(11), c.size]).toEqual(['y'.repeat(10), 'y'.repeat(10), 3]);
  });

  it('estimates a fold by what it holds (more slots, more bytes)', () => {
    const chains = new Chains();
    const items = itemIndex([BUNDLE]);
    const one = foldProofs(emptyFold(), [chains.proof('st1', '2026-11-24')], items);
    const two = foldProofs(
      emptyFold(),
      [
        chains.proof('st1', '2026-11-24'),
        chains.proof('st2', '2026-11-24'),
        chains.proof('st2', '2026-11-25'),
      ],
      items,
    );
    expect(foldBytes(emptyFold())).toBeLessThan(foldBytes(one));
    expect(foldBytes(one)).toBeLessThan(foldBytes(two));
  });
});
