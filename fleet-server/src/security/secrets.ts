/**
 * Secrets at rest: scrypt hashes for passwords (users, device MQTT passwords), SHA-256 for
 * high-entropy random tokens (sessions, API and enrolment tokens: a fast hash suffices because
 * the secret is 256 random bits; it lets a lookup go by hash).
 */
import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
/** For people's passwords (~50 ms, 16 MiB). */
export const USER_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };
/** For random device passwords (already 256-bit): cheaper, reconnect storms stay affordable. */
export const DEVICE_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 };

function scryptAsync(secret: string, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, len, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** "scrypt$N$r$p$salt$hash" (base64). */
export async function hashSecret(secret: string, params: ScryptParams = USER_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, 32, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.length !== 32) return false;
  const key = await scryptAsync(secret, salt, 32, { N, r, p });
  return timingSafeEqual(key, expected);
}

export function sha256Hex(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

/** URL-safe random token with `bytes` of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** A readable one-time password: 4 groups of 4 from an unambiguous alphabet (~80 bits). */
export function oneTimePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out += alphabet[(bytes[i] as number) % alphabet.length];
    if (i % 4 === 3 && i < 15) out += '-';
  }
  return out;
}
