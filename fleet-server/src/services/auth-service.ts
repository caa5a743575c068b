/**
 * Authentication: password login with rate limiting, sessions (cookie + CSRF token), API tokens,
 * the first administrator. Secrets are stored hashed; tokens are never logged.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, LoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { ApiTokenRecord, SessionRecord, UserRecord, UserRole } from '../domain/model.js';
import {
  type GuessLimits,
  type GuessTicket,
  type GuessWindowSpec,
  LocalGuessLimits,
  SampledLog,
} from '../domain/rate-limit.js';
import { ALL_UNITS } from '../domain/rbac.js';
import { validatePassword } from '../domain/users.js';
import { METRIC, type Metrics } from '../metrics.js';
import { hashSecret, oneTimePassword, randomToken, sha256Hex, verifySecret } from '../security/secrets.js';
import type { Store } from '../store/ports.js';

/** The authenticated caller of a request. */
export interface AuthUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  scope: string[];
  mustChangePassword: boolean;
  via: 'session' | 'token';
  sessionId?: string;
  csrf?: string;
  tokenId?: string;
}

export const SESSION_COOKIE = 'loa_session';
export const API_TOKEN_PREFIX = 'loa_';

/** Deletes every session of a user except `keep` (the caller's own). */
async function endOtherSessions(
  sessions: Store['sessions'],
  userId: string,
  keep: string | undefined,
): Promise<number> {
  const others = await sessions.list((x) => x.userId === userId && x.id !== keep);
  for (const x of others) await sessions.delete(x.id);
  return others.length;
}

/** A hash to compare against when the user does not exist (same cost, no user enumeration by timing). */
let dummyHash: Promise<string> | undefined;

export class AuthService {
  /** Guess counters: in this process, or shared by a cluster's nodes (d.guesses). */
  private readonly guesses: GuessLimits;
  /** Failed logins under unknown user names: sampled into the audit log, counted in the metric. */
  private readonly unknownAudit: SampledLog;
  constructor(
    private readonly d: {
      store: Store;
      clock: Clock;
      config: ServerConfig;
      logger: Logger;
      metrics: Metrics;
      guesses?: GuessLimits;
    },
  ) {
    this.guesses = d.guesses ?? new LocalGuessLimits();
    this.unknownAudit = new SampledLog({ windowMs: d.config.loginWindowMs, maxPerWindow: 100 });
  }

  /** A guess window of `limit`, allowing `factor` × the configured login attempts. */
  private window(limit: string, key: string, factor: number, clearOnSuccess: boolean): GuessWindowSpec {
    return {
      limit,
      key,
      maxAttempts: this.d.config.loginMaxAttempts * factor,
      windowMs: this.d.config.loginWindowMs,
      clearOnSuccess,
    };
  }

  /**
   * Reserves a guess; shared counters that cannot be reached refuse the attempt
   * (AUTH_LIMITS_UNAVAILABLE, HTTP 503) rather than let it through unlimited.
   */
  private async reserve(windows: GuessWindowSpec[]): Promise<GuessTicket> {
    let t: GuessTicket | { retryAfterMs: number };
    try {
      t = await this.guesses.reserve(windows, this.d.clock.now());
    } catch (e) {
      this.d.logger.error({ err: e }, 'guess limits unreachable');
      throw new LoaError(
        'AUTH_LIMITS_UNAVAILABLE',
        'tạm thời chưa kiểm tra được đăng nhập, vui lòng thử lại sau ít phút',
        { cause: e },
      );
    }
    if ('retryAfterMs' in t) throw this.rateLimited(t.retryAfterMs);
    return t;
  }

  private rateLimited(wait: number): LoaError {
    return new LoaError(
      'AUTH_RATE_LIMITED',
      `đăng nhập sai quá nhiều lần, thử lại sau ${Math.ceil(wait / 60_000)} phút`,
      { details: { retryAfterSeconds: Math.ceil(wait / 1000) } },
    );
  }

  private iso(ms = this.d.clock.now()): string {
    return new Date(ms).toISOString();
  }

  toAuthUser(u: UserRecord, via: AuthUser['via'], extra: Partial<AuthUser> = {}): AuthUser {
    return {
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      role: u.role,
      scope: [...u.scope],
      mustChangePassword: u.mustChangePassword,
      via,
      ...extra,
    };
  }

  /**
   * Checks a password and opens a session. Fails with AUTH_RATE_LIMITED (after too many failures
   * for this IP and user name) or AUTH_INVALID (same message whether the user exists or not).
   */
  async login(
    usernameRaw: string,
    password: string,
    ip: string,
    userAgent?: string,
  ): Promise<{ user: AuthUser; cookie: string; session: SessionRecord }> {
    const username = usernameRaw.trim().toLowerCase();
    const now = this.d.clock.now();
    // the attempt is counted before the hash is awaited: parallel guesses meet the limit too.
    // Windows: this address and name; this address over all names; this name from every address
    // (a distributed guess of one account meets a wider limit).
    const ticket = await this.reserve([
      this.window('login-pair', `${ip}|${username}`, 1, true),
      this.window('login-address', ip, 4, false),
      this.window('login-account', username, 10, true),
    ]);
    const user = await this.d.store.users.byUsername(username);
    dummyHash ??= hashSecret('not-a-password');
    const ok = user
      ? await verifySecret(password, user.passwordHash)
      : await verifySecret(password, await dummyHash);
    if (!user || !ok || user.disabled) {
      ticket.fail();
      this.d.metrics.inc(METRIC.loginFailures);
      // a known account's failures are each audited (its own limit bounds them); made-up names
      // are sampled: the first per address and window, at most 100 per window in all
      if (user || this.unknownAudit.admit(ip, this.d.clock.now())) {
        const skipped = user ? 0 : this.unknownAudit.takeSuppressed();
        await this.d.store.audit.append({
          actor: { type: 'user', id: user?.id ?? 'unknown', name: username.slice(0, 64) },
          action: 'auth.login-failed',
          ip,
          ...(skipped > 0 ? { details: { unknownNameFailuresNotLogged: skipped } } : {}),
        });
      }
      throw new LoaError('AUTH_INVALID', 'tên đăng nhập hoặc mật khẩu không đúng');
    }
    ticket.succeed();
    const cookie = randomToken(32);
    const session: SessionRecord = {
      id: sha256Hex(cookie),
      userId: user.id,
      csrf: randomToken(24),
      createdAt: this.iso(now),
      expiresAt: this.iso(now + this.d.config.sessionTtlHours * 3600_000),
      ip,
      ...(userAgent ? { userAgent: userAgent.slice(0, 200) } : {}),
    };
    await this.d.store.sessions.insert(session);
    await this.d.store.audit.append({
      actor: { type: 'user', id: user.id, name: user.username },
      action: 'auth.login',
      ip,
    });
    return {
      user: this.toAuthUser(user, 'session', { sessionId: session.id, csrf: session.csrf }),
      cookie,
      session,
    };
  }

  async logout(sessionId: string): Promise<void> {
    await this.d.store.sessions.delete(sessionId);
  }

  /** The user of a session cookie, or null when unknown, expired or the user is disabled. */
  async resolveSession(cookie: string): Promise<AuthUser | null> {
    if (!cookie || cookie.length > 200) return null;
    const id = sha256Hex(cookie);
    const s = await this.d.store.sessions.get(id);
    if (!s) return null;
    if (Date.parse(s.expiresAt) <= this.d.clock.now()) {
      await this.d.store.sessions.delete(id);
      return null;
    }
    const u = await this.d.store.users.get(s.userId);
    if (!u || u.disabled) return null;
    return this.toAuthUser(u, 'session', { sessionId: s.id, csrf: s.csrf });
  }

  /** The user of an API token (`Authorization: Bearer loa_…`), or null. */
  async resolveApiToken(token: string): Promise<AuthUser | null> {
    if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
    const rec = await this.d.store.apiTokens.byHash(sha256Hex(token));
    if (!rec || rec.revokedAt) return null;
    const now = this.d.clock.now();
    if (rec.expiresAt && Date.parse(rec.expiresAt) <= now) return null;
    const u = await this.d.store.users.get(rec.userId);
    if (!u || u.disabled) return null;
    // lastUsedAt at most once a minute: a busy integration must not rewrite the registry per call
    if (!rec.lastUsedAt || now - Date.parse(rec.lastUsedAt) > 60_000)
      await this.d.store.apiTokens.update(rec.id, { lastUsedAt: this.iso(now) });
    return this.toAuthUser(u, 'token', { tokenId: rec.id });
  }

  async createApiToken(
    userId: string,
    name: string,
    expiresAt?: string,
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
    const record: ApiTokenRecord = {
      id: randomUUID(),
      userId,
      name,
      hash: sha256Hex(token),
      prefix: token.slice(0, 10),
      createdAt: this.iso(),
      ...(expiresAt ? { expiresAt } : {}),
    };
    await this.d.store.apiTokens.insert(record);
    await this.d.store.flush();
    return { token, record };
  }

  /**
   * Changes the own password (the current one is checked under a guess limit per user) and ends
   * the user's other sessions (`keepSessionId`, the caller's own, stays open).
   */
  async changePassword(userId: string, current: string, next: string, keepSessionId?: string): Promise<void> {
    const ticket = await this.reserve([this.window('password-change', userId, 1, true)]);
    const u = await this.d.store.users.get(userId);
    if (!u) throw new LoaError('USER_NOT_FOUND', 'không tìm thấy người dùng');
    if (!(await verifySecret(current, u.passwordHash))) {
      ticket.fail();
      this.d.metrics.inc(METRIC.loginFailures);
      throw new LoaError('AUTH_INVALID', 'mật khẩu hiện tại không đúng');
    }
    ticket.succeed();
    validatePassword(next, u.username);
    if (current === next) throw new LoaError('PASSWORD_WEAK', 'mật khẩu mới phải khác mật khẩu cũ');
    await this.d.store.users.update(userId, {
      passwordHash: await hashSecret(next),
      mustChangePassword: false,
      updatedAt: this.iso(),
    });
    await endOtherSessions(this.d.store.sessions, userId, keepSessionId);
    await this.d.store.flush(); // a changed password must survive a crash once answered
  }

  /** Sets a password chosen by an administrator (the user must change it at next login). */
  async resetPassword(userId: string): Promise<string> {
    const pw = oneTimePassword();
    await this.d.store.users.update(userId, {
      passwordHash: await hashSecret(pw),
      mustChangePassword: true,
      updatedAt: this.iso(),
    });
    await this.d.store.sessions.deleteForUser(userId);
    await this.d.store.flush();
    return pw;
  }

  /**
   * On an empty user table, creates the administrator with a one-time password (returned, to
   * print once; it must be changed at first login). Scope "*" covers every unit.
   */
  async bootstrap(): Promise<{ username: string; password: string } | null> {
    if ((await this.d.store.users.count()) > 0) return null;
    const password = oneTimePassword();
    const now = this.iso();
    await this.d.store.users.insert({
      id: randomUUID(),
      username: this.d.config.bootstrapAdmin,
      displayName: 'Quản trị viên',
      role: 'administrator',
      scope: [ALL_UNITS],
      passwordHash: await hashSecret(password),
      mustChangePassword: true,
      disabled: false,
      createdAt: now,
      updatedAt: now,
    });
    await this.d.store.audit.append({
      actor: { type: 'system', id: 'bootstrap' },
      action: 'user.bootstrap-admin',
      target: { type: 'user', id: this.d.config.bootstrapAdmin },
    });
    return { username: this.d.config.bootstrapAdmin, password };
  }
}
