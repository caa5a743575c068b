/**
 * Provisioning of a fleet server in this process (demo, benchmarks): everything goes through the
 * server's own HTTP API with API tokens, except minting the first administrator's API token,
 * which only an in-process caller (or a logged-in administrator) can do.
 */

import { randomBytes } from 'node:crypto';
import type { FleetServer } from '@loa/fleet-server';
import {
  addSignature,
  type KeyPair,
  keyId,
  type Role,
  rawPublicKey,
  type TrustBody,
  type TrustPolicy,
} from '@loa/protocol';
import { FleetApi } from './fleet-api.js';

export interface UnitSeed {
  code: string;
  name: string;
  level: string;
  /** Parent path; absent for a province. */
  parent?: string;
  demo?: boolean;
}

export interface UserSeed {
  username: string;
  displayName: string;
  role: 'administrator' | 'editor' | 'approver' | 'operator' | 'technician' | 'viewer';
  scope: string[];
  /** Roles of this user's server-held signing key in the trust policy (none: no key). */
  signingRoles?: Role[];
}

/** An API client acting as a user, through a fresh API token (valid `hours`). */
export async function apiAsUser(server: FleetServer, username: string, hours = 24): Promise<FleetApi> {
  const user = await server.deps.store.users.byUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  const expires = new Date(server.deps.clock.now() + hours * 3600_000).toISOString();
  const { token } = await server.deps.auth.createApiToken(
    user.id,
    `loa-sim ${new Date().toISOString()}`,
    expires,
  );
  return new FleetApi(server.url, token);
}

/**
 * Runs `fn` with an API client acting as the first administrator of a fresh server. The
 * one-time password must be changed before the API answers, so it is changed to a random one,
 * and afterwards reset to a new one-time password (returned, to print once: the administrator
 * must still change it at first login). The API token is revoked.
 */
export async function asBootstrapAdmin<T>(
  server: FleetServer,
  bootstrap: { username: string; password: string },
  fn: (admin: FleetApi) => Promise<T>,
): Promise<{ result: T; adminOneTimePassword: string }> {
  const user = await server.deps.store.users.byUsername(bootstrap.username);
  if (!user) throw new Error(`no user ${bootstrap.username}`);
  const expires = new Date(server.deps.clock.now() + 3600_000).toISOString();
  const { token, record } = await server.deps.auth.createApiToken(user.id, 'loa-provisioning', expires);
  const api = new FleetApi(server.url, token);
  await api.post('/auth/password', { currentPassword: bootstrap.password, newPassword: randomPassword() });
  let result: T;
  try {
    result = await fn(api);
  } finally {
    await api.call('delete', `/tokens/${record.id}`).catch(() => undefined);
  }
  const adminOneTimePassword = await server.deps.auth.resetPassword(user.id);
  return { result, adminOneTimePassword };
}

/** A random password that passes the server's rules (12+ characters, varied). */
export function randomPassword(): string {
  return `Loa-${randomBytes(9).toString('base64url')}`;
}

export async function importUnits(admin: FleetApi, units: readonly UnitSeed[]): Promise<void> {
  await admin.post('/units/import', { format: 'json', data: units });
}

export interface CreatedUser {
  username: string;
  /** The password set for the user (the one-time password is changed at once, demo only). */
  password: string;
  api: FleetApi;
  signingKey?: { keyid: string; publicKey: string };
}

export async function createUsers(
  server: FleetServer,
  admin: FleetApi,
  users: readonly UserSeed[],
): Promise<CreatedUser[]> {
  const out: CreatedUser[] = [];
  for (const u of users) {
    const res = await admin.post<{ oneTimePassword: string }>('/users', {
      username: u.username,
      displayName: u.displayName,
      role: u.role,
      scope: u.scope,
    });
    const api = await apiAsUser(server, u.username);
    // the API refuses a user who still has a one-time password: set a known one (demo, benchmarks)
    const password = randomPassword();
    await api.post('/auth/password', { currentPassword: res.oneTimePassword, newPassword: password });
    const created: CreatedUser = { username: u.username, password, api };
    if (u.signingRoles?.length)
      created.signingKey = await api.post<{ keyid: string; publicKey: string }>('/signing-keys/me');
    out.push(created);
  }
  return out;
}

/** A trust policy delegating the users' server-held keys, signed by the (demo) root. */
export function buildTrustPolicy(opts: {
  root: KeyPair;
  version: number;
  now: Date;
  delegations: { name: string; keyid: string; publicKey: string; roles: Role[]; scope: string[] }[];
  thresholds?: TrustBody['thresholds'];
}): TrustPolicy {
  const body: TrustBody = {
    type: 'loa-trust',
    format: 1,
    version: opts.version,
    created: opts.now.toISOString(),
    expires: new Date(opts.now.getTime() + 365 * 86_400_000).toISOString(),
    root: {
      keys: [
        {
          keyid: keyId(opts.root.publicKey),
          publicKey: rawPublicKey(opts.root.publicKey).toString('base64'),
        },
      ],
      threshold: 1,
    },
    keys: opts.delegations.map((d) => ({
      keyid: d.keyid,
      publicKey: d.publicKey,
      name: d.name,
      roles: d.roles,
      scope: d.scope,
    })),
    thresholds: opts.thresholds ?? {},
  };
  return addSignature({ ...body, signatures: [] }, opts.root.privateKey);
}

export async function createEnrolmentToken(
  api: FleetApi,
  opts: { unit: string; kind: 'station' | 'noticeboard'; maxUses: number; ttlHours?: number; note?: string },
): Promise<string> {
  const res = await api.post<{ token: string }>('/enrol-tokens', {
    unit: opts.unit,
    kind: opts.kind,
    maxUses: opts.maxUses,
    ttlHours: opts.ttlHours ?? 24,
    ...(opts.note ? { note: opts.note } : {}),
  });
  return res.token;
}
