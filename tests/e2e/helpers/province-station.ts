/**
 * A province on one fleet server and one real station, set up the way people do it:
 * - the server in this process (real socket, embedded aedes, file store, content plugin), with the
 *   province root pinned by its public key only;
 * - units imported, users created through the API (editor, approver, operator, technician scoped
 *   to one commune), with server-held signing keys;
 * - the trust policy built and signed offline with the root key, as `loa trust init` and
 *   `loa trust add` do (protocol functions), then uploaded by the administrator;
 * - a one-time enrolment token made by the technician;
 * - the real agent (startAgent) with simulated GPIO and modem and real ffmpeg into a WAV file,
 *   enrolling with that token from its provisioning file.
 */
import type { KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentPlugin, type FleetServer, type ServerPlugin, startFleetServer } from '@loa/fleet-server';
import {
  addSignature,
  type Clock,
  type KeyPair,
  newTrustPolicy,
  publicKeyFromRaw,
  publicKeyToPem,
  type Role,
  rawPublicKey,
  type TrustBody,
  withDelegatedKey,
} from '@loa/protocol';
import type { Logger } from 'pino';
import { parseConfig } from '../../../agent/src/config.js';
import { type AgentRuntime, startAgent } from '../../../agent/src/main.js';
import type { FleetApi } from '../../../scripts/src/sim/fleet-api.js';
import {
  asBootstrapAdmin,
  createEnrolmentToken,
  createUsers,
  type UserSeed,
} from '../../../scripts/src/sim/provision.js';
import { wavOriginMs } from './live-wav.js';

export interface Province {
  server: FleetServer;
  editor: FleetApi;
  approver: FleetApi;
  operator: FleetApi;
  technician: FleetApi;
  /** The one-time enrolment token for `commune`. */
  token: string;
  /** Version of the uploaded trust policy. */
  trustVersion: number;
  /** Each user's password (to sign in to the dashboard), by username. */
  passwords: Record<string, string>;
}

/** Starts the server and provisions it; the caller stops `server` (also when this throws later). */
export async function startProvince(opts: {
  dataDir: string;
  root: KeyPair;
  commune: string;
  logger: Logger;
  onServer: (s: FleetServer) => void;
  /** The server's clock (default the system's). */
  clock?: Clock;
  /** The server's plugins (default the content plugin alone; the dashboard needs standardPlugins()). */
  plugins?: ServerPlugin[];
  /** Fixed ports (a test that stops the server and starts it again); default any free port. */
  httpPort?: number;
  mqttPort?: number;
  /** Keys held offline, added to the policy as `loa trust add` does (e.g. for `loa bundle sign`). */
  offlineKeys?: { publicKey: KeyObject; roles: Role[]; name: string }[];
}): Promise<Province> {
  const { root, commune } = opts;
  const server = await startFleetServer({
    config: {
      dataDir: opts.dataDir,
      httpPort: opts.httpPort ?? 0,
      mqttPort: opts.mqttPort ?? 0,
      host: '127.0.0.1',
      trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
    },
    logger: opts.logger,
    plugins: opts.plugins ?? [contentPlugin()],
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  opts.onServer(server);
  const bootstrap = server.bootstrap;
  if (!bootstrap) throw new Error('a fresh data directory must create the first administrator');
  const [province, code] = commune.split('/');
  const seeds: (UserSeed & { trustName?: string })[] = [
    {
      username: 'bientap',
      displayName: 'Biên tập xã',
      role: 'editor',
      scope: [commune],
      signingRoles: ['content'],
    },
    {
      username: 'pheduyet',
      displayName: 'Phê duyệt xã',
      role: 'approver',
      scope: [commune],
      signingRoles: ['content'],
    },
    {
      username: 'vanhanh',
      displayName: 'Trực ban xã',
      role: 'operator',
      scope: [commune],
      signingRoles: ['emergency'],
    },
    { username: 'kythuat', displayName: 'Kỹ thuật viên', role: 'technician', scope: [commune] },
  ];
  const { result } = await asBootstrapAdmin(server, bootstrap, async (admin) => {
    await admin.post('/units/import', {
      format: 'json',
      data: [
        { code: province, name: 'Tuyên Quang', level: 'province', demo: true },
        { code, name: 'Sơn Dương', level: 'commune', parent: province, demo: true },
      ],
    });
    const users = await createUsers(server, admin, seeds);
    // Offline, as `loa trust init --threshold content=2` then `loa trust add` per key.
    const created = new Date(Date.now() - 60_000);
    let policy: TrustBody = newTrustPolicy({
      rootKeys: [root.privateKey],
      thresholds: { content: 2, emergency: 1 },
      created,
      expires: new Date(Date.now() + 30 * 86_400_000),
    });
    seeds.forEach((seed, i) => {
      const key = users[i]?.signingKey;
      if (!seed.signingRoles?.length) return;
      if (!key) throw new Error(`${seed.username} has no server-held key`);
      policy = withDelegatedKey(
        policy,
        {
          publicKey: publicKeyFromRaw(key.publicKey),
          roles: seed.signingRoles as Role[],
          scope: [commune],
          name: `${seed.displayName} ${code}`,
        },
        created,
      );
    });
    for (const k of opts.offlineKeys ?? [])
      policy = withDelegatedKey(policy, { ...k, scope: [commune] }, created);
    await admin.put('/trust', addSignature({ ...policy, signatures: [] }, root.privateKey));
    const api = (name: string) => {
      const u = users.find((x) => x.username === name);
      if (!u) throw new Error(`no user ${name}`);
      return u.api;
    };
    const technician = api('kythuat');
    const token = await createEnrolmentToken(technician, { unit: commune, kind: 'station', maxUses: 1 });
    return {
      editor: api('bientap'),
      approver: api('pheduyet'),
      operator: api('vanhanh'),
      technician,
      token,
      trustVersion: policy.version,
      passwords: Object.fromEntries(users.map((u) => [u.username, u.password])),
    };
  });
  return { server, ...result };
}

export interface Station {
  rt: AgentRuntime;
  wavPath: string;
  /** Where a wall-clock instant falls in the WAV (ms), with the uncertainty of the file's origin. */
  wavPosition(wallMs: number): { ms: number; slackMs: number };
}

/** Writes the station's root key and provisioning file and starts the agent. */
export async function startStation(opts: {
  dir: string;
  serverUrl: string;
  root: KeyPair;
  token: string;
  logger: Logger;
}): Promise<Station> {
  mkdirSync(opts.dir, { recursive: true });
  writeFileSync(join(opts.dir, 'root.pub'), publicKeyToPem(opts.root.publicKey));
  writeFileSync(join(opts.dir, 'provisioning.json'), JSON.stringify({ enrolmentToken: opts.token }));
  const config = parseConfig(
    {
      device: { dataDir: 'data', name: 'Cụm loa chợ Sơn Dương' },
      fleet: { url: opts.serverUrl, provisioningFile: 'provisioning.json', healthIntervalS: 5 },
      trust: { rootKeys: ['root.pub'] },
      hardware: {
        gpio: { driver: 'sim' },
        amplifier: { pin: 17, warmupMs: 1000, idleTailMs: 1500 },
        zones: { cho: { pin: 27 } },
        inputs: { mains: { pin: 5 }, door: { pin: 6 } },
        modem: { driver: 'sim', pollIntervalS: 5 },
      },
      audio: { driver: 'real', output: { type: 'wav', path: 'out.wav' } },
      technician: { enabled: false },
    },
    opts.dir,
  );
  const wavPath = join(opts.dir, 'out.wav');
  const notBeforeMs = Date.now();
  const rt = await startAgent(config, { logger: opts.logger, env: {} });
  const notAfterMs = Date.now();
  // Position 0 of the sink is the file's creation (birth time); where the file system keeps
  // none, the sink opened while startAgent() ran, and that window is the uncertainty.
  const atMs = await wavOriginMs(wavPath);
  return {
    rt,
    wavPath,
    wavPosition(wallMs) {
      if (atMs !== undefined) return { ms: wallMs - atMs, slackMs: 0 };
      const mid = (notBeforeMs + notAfterMs) / 2;
      return { ms: wallMs - mid, slackMs: (notAfterMs - notBeforeMs) / 2 };
    },
  };
}
