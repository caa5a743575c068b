/** Range header parsing for blob downloads (resume over slow 4G links). */
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../../fleet-server/src/http/routes/blobs.js';

describe('parseRange', () => {
  it('serves the whole file without a usable Range', () => {
    for (const h of [undefined, '', 'items=0-1', 'bytes=0-1,4-5', 'bytes=-', 'bytes=a-b'])
      expect(parseRange(h, 100), String(h)).toBeUndefined();
  });
  it('parses start-end, open end and suffix ranges, clamped to the size', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });
  it('refuses ranges that cannot be satisfied (416)', () => {
    for (const h of ['bytes=100-', 'bytes=5-4', 'bytes=-0', 'bytes=0-0']) {
      const size = h === 'bytes=0-0' ? 0 : 100;
      expect(parseRange(h, size), h).toBe('unsatisfiable');
    }
  });
});
