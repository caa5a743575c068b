/**
 * A small proof of work for the public feedback form, with no third party: the server hands out a
 * challenge (expiry, random, difficulty, bound to the unit, HMAC-signed so nothing is stored until
 * it comes back); the browser finds a nonce whose SHA-256 over "challenge:nonce" starts with
 * `bits` zero bits (about 2^bits hashes: a second or two on an old phone, a real cost for a flood);
 * a solved challenge is accepted once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LoaError } from '@loa/protocol';

export const CHALLENGE_DEFAULTS = {
  bits: 14,
  ttlMs: 30 * 60_000,
  /** Remembered spent challenges (bounded). */
  maxSpent: 200_000,
};

export function leadingZeroBits(hash: Buffer): number {
  let n = 0;
  for (const byte of hash) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

/** Solves a challenge (tests, benchmarks and the CLI; the page does the same in its script). */
export function solveChallenge(token: string): string {
  const bits = Number(token.split('.')[2]);
  for (let i = 0; ; i++) {
    const nonce = i.toString(36);
    if (leadingZeroBits(createHash('sha256').update(`${token}:${nonce}`).digest()) >= bits) return nonce;
  }
}

export class ChallengeIssuer {
  readonly #spent = new Map<string, number>();
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number,
    private readonly opts: typeof CHALLENGE_DEFAULTS = CHALLENGE_DEFAULTS,
  ) {}

  get bits(): number {
    return this.opts.bits;
  }

  #mac(unit: string, body: string): string {
    return createHmac('sha256', this.key).update(`${unit}|${body}`).digest('base64url').slice(0, 32);
  }

  issue(unit: string): string {
    const body = `${this.now() + this.opts.ttlMs}.${randomBytes(9).toString('base64url')}.${this.opts.bits}`;
    return `${body}.${this.#mac(unit, body)}`;
  }

  /** Accepts a solved challenge once; POW_INVALID / POW_EXPIRED / POW_REUSED otherwise. */
  redeem(unit: string, token: string, nonce: string): void {
    const parts = token.split('.');
    if (parts.length !== 4 || nonce.length === 0 || nonce.length > 32)
      throw new LoaError('POW_INVALID', 'Mã chống thư rác không hợp lệ, hãy tải lại trang');
    const [exp, rand, bits, mac] = parts as [string, string, string, string];
    const body = `${exp}.${rand}.${bits}`;
    const want = Buffer.from(this.#mac(unit, body));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got) || Number(bits) < this.opts.bits)
      throw new LoaError('POW_INVALID', 'Mã chống thư rác không hợp lệ, hãy tải lại trang');
    const now = this.now();
    if (Number(exp) < now) throw new LoaError('POW_EXPIRED', 'Biểu mẫu đã hết hạn, hãy tải lại trang');
    if (leadingZeroBits(createHash('sha256').update(`${token}:${nonce}`).digest()) < Number(bits))
      throw new LoaError('POW_INVALID', 'Mã chống thư rác không hợp lệ, hãy tải lại trang');
    if (this.#spent.has(rand))
      throw new LoaError('POW_REUSED', 'Biểu mẫu này đã được gửi, hãy tải lại trang');
    this.#spent.set(rand, Number(exp));
    if (this.#spent.size > this.opts.maxSpent)
      for (const [k, e] of this.#spent) {
        if (e < now || this.#spent.size > this.opts.maxSpent) this.#spent.delete(k);
        else break;
      }
  }
}
