import { describe, expect, it } from 'vitest';
import { parseSimArgs, UsageError } from '../../scripts/src/sim/args.js';
import { nextEventMs, seededRandom } from '../../scripts/src/sim/random.js';

const base = [
  '--devices',
  '14',
  '--server',
  'http://127.0.0.1:8080',
  '--token',
  'tok-stations',
  '--root-key',
  'root.pem',
];

function usage(argv: string[]): string {
  try {
    parseSimArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('sim arguments', () => {
  it('parses a full command line with defaults', () => {
    const o = parseSimArgs([
      ...base,
      '--noticeboards',
      '2',
      '--noticeboard-token',
      'tok-boards',
      '--amp-faults',
      '0.1',
    ]);
    expect(o).not.toBe('help');
    if (o === 'help') return;
    expect(o.devices).toBe(14);
    expect(o.noticeboards).toBe(2);
    expect(o.server).toBe('http://127.0.0.1:8080');
    expect(o.tokens).toEqual(['tok-stations']);
    expect(o.noticeboardTokens).toEqual(['tok-boards']);
    expect(o.profile).toBe('4g-good');
    expect(o.ampFaults).toBe(0.1);
    expect(o.durationS).toBe(0);
    expect(o.healthIntervalS).toBe(60);
  });

  it('returns help for --help', () => {
    expect(parseSimArgs(['--help'])).toBe('help');
  });

  it('rejects bad input with a clear message', () => {
    expect(usage([])).toMatch(/--devices is required/);
    expect(usage(['--devices', 'ten', '--server', 'http://x'])).toMatch(/--devices must be an integer/);
    expect(usage(['--devices', '0', '--server', 'http://x'])).toMatch(/between 1 and 20000/);
    expect(usage(['--devices', '3'])).toMatch(/--server is required/);
    expect(usage(['--devices', '3', '--server', 'ftp://x', '--token', 't', '--root-key', 'k'])).toMatch(
      /http/,
    );
    expect(usage(['--devices', '3', '--server', 'not a url'])).toMatch(/not a URL/);
    expect(usage([...base, '--profile', '5g'])).toMatch(/--profile must be one of/);
    expect(usage([...base, '--noticeboards', '2'])).toMatch(/--noticeboard-token is required/);
    expect(usage([...base, '--noticeboards', '20', '--noticeboard-token', 'b'])).toMatch(/between 0 and 14/);
    expect(usage([...base, '--amp-faults', '1.5'])).toMatch(/between 0 and 1/);
    expect(usage([...base, '--bogus'])).toMatch(/bogus/);
    expect(usage(['--devices', '3', '--server', 'http://x', '--root-key', 'k'])).toMatch(
      /--token is required/,
    );
  });
});

describe('sim randomness', () => {
  it('is repeatable for a seed and spread over [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('draws exponential gaps whose mean matches the rate', () => {
    const r = seededRandom(7);
    const gaps = Array.from({ length: 5000 }, () => nextEventMs(2, r));
    const mean = gaps.reduce((s, x) => s + x, 0) / gaps.length;
    expect(mean).toBeGreaterThan(1_800_000 * 0.9);
    expect(mean).toBeLessThan(1_800_000 * 1.1);
    expect(nextEventMs(0, r)).toBe(Number.POSITIVE_INFINITY);
  });
});
