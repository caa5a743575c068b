/**
 * The real fleet server for a benchmark, started in the child process (child-host.ts): standard
 * content plugin, demo province units, an operator with a server-held emergency key delegated by
 * a throw-away root, enrolment tokens, and recorders of what ingest saw (counts, and when each
 * device reported an emergency "playing"). Rate limits can be raised for throughput runs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { citizensPlugin, contentPlugin, type ServerPlugin, startFleetServer } from '@loa/fleet-server';
import { generateKeyPair, parseTopic, publicKeyToPem, rawPublicKey } from '@loa/protocol';
import { pino } from 'pino';
import {
  asBootstrapAdmin,
  buildTrustPolicy,
  createEnrolmentToken,
  createUsers,
  importUnits,
} from '../sim/provision.js';

export interface BenchFleet {
  httpPort: number;
  mqttPort: number;
  info: Record<string, unknown>;
  stop(): Promise<void>;
  query(what: string, arg?: unknown): Promise<unknown>;
}

export const BENCH_UNITS = [
  { code: '08', name: 'Tuyên Quang', level: 'province', demo: true },
  { code: '02500', name: 'Xã Sơn Dương (demo)', level: 'commune', parent: '08', demo: true },
  { code: '02503', name: 'Xã Hồng Lạc (demo)', level: 'commune', parent: '08', demo: true },
];

export interface BenchFleetOptions {
  dataDir: string;
  /** Devices that will enrol (tokens are made for them, 500 uses each). */
  devices?: number;
  /** Per-client publish rate and burst (the default limits suit a field fleet, not a load test). */
  ratePerSecond?: number;
  burst?: number;
  /**
   * Upload this many short spoken clips for emergencies, each different (needs espeak-ng +
   * ffmpeg): every alert in the field carries new audio, so every round makes stations download.
   */
  emergencyClips?: number;
  /** Health history thinning (server default 300 s; 0 writes every report). */
  healthHistoryEveryS?: number;
  /** Also run the citizens' side (public pages, feedback). */
  citizens?: boolean;
  /** The PostgreSQL store at this URL (default: the embedded store in dataDir). */
  databaseUrl?: string;
  /** A node of a cluster: MQTT state, presence and shared health in the Redis at this URL. */
  redisUrl?: string;
  /** The signing master key (hex), the same on every node of a cluster. */
  masterKeyHex?: string;
  /** Another node of a cluster whose first node set everything up: no bootstrap, no tokens. */
  join?: boolean;
}

/** The bundle id an emergency message names (a parsed message or its JSON bytes). */
function emergencyId(payload: unknown): string | undefined {
  try {
    const m = (
      Buffer.isBuffer(payload) || typeof payload === 'string' ? JSON.parse(String(payload)) : payload
    ) as { manifest?: { id?: unknown } };
    return typeof m?.manifest?.id === 'string' ? m.manifest.id : undefined;
  } catch {
    return undefined;
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

export async function startBenchFleet(raw: Record<string, unknown>): Promise<BenchFleet> {
  const o = raw as unknown as BenchFleetOptions;
  const root = generateKeyPair();
  const content = contentPlugin(o.masterKeyHex ? { masterKey: Buffer.from(o.masterKeyHex, 'hex') } : {});
  const extra: ServerPlugin[] = o.citizens ? [citizensPlugin({ content })] : [];
  const server = await startFleetServer({
    config: {
      httpPort: 0,
      mqttPort: 0,
      host: '127.0.0.1',
      dataDir: o.dataDir,
      trustRoots: [rawPublicKey(root.publicKey).toString('base64')],
      ...(o.healthHistoryEveryS !== undefined ? { healthHistoryEveryS: o.healthHistoryEveryS } : {}),
      ...(o.databaseUrl ? { store: 'postgres' as const, databaseUrl: o.databaseUrl } : {}),
      ...(o.redisUrl ? { cluster: { kind: 'redis' as const, redisUrl: o.redisUrl } } : {}),
      broker: {
        ratePerSecond: o.ratePerSecond ?? 20,
        burst: o.burst ?? 100,
        drainTimeoutMs: 10_000,
        connectTimeoutMs: 30_000,
      },
    },
    logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
    plugins: [content, ...extra],
  });
  const services = content.services;
  const stats = () => ({
    store: server.deps.store.stats(),
    online: server.broker.onlineCount(),
  });
  if (o.join)
    return {
      httpPort: server.httpPort,
      mqttPort: server.mqttPort,
      info: { url: server.url, mqttUrl: server.mqttUrl },
      stop: () => server.stop(),
      async query(what) {
        if (what === 'stats') return { ...stats(), counts: {} };
        throw new Error(`unknown query ${what}`);
      },
    };

  if (!server.bootstrap) throw new Error('the benchmark needs a fresh data directory');
  const { result: setup } = await asBootstrapAdmin(server, server.bootstrap, async (admin) => {
    await importUnits(admin, BENCH_UNITS);
    const [operator, editor, approver] = await createUsers(server, admin, [
      {
        username: 'bench-operator',
        displayName: 'Bench operator',
        role: 'operator',
        scope: ['08'],
        signingRoles: ['emergency', 'command'],
      },
      {
        username: 'bench-editor',
        displayName: 'Bench editor',
        role: 'editor',
        scope: ['08'],
        signingRoles: ['content'],
      },
      {
        username: 'bench-approver',
        displayName: 'Bench approver',
        role: 'approver',
        scope: ['08'],
        signingRoles: ['content'],
      },
    ]);
    if (!operator?.signingKey || !editor?.signingKey || !approver?.signingKey)
      throw new Error('no signing keys');
    const policy = buildTrustPolicy({
      root,
      version: 1,
      now: new Date(),
      delegations: [
        { name: 'bench operator', ...operator.signingKey, roles: ['emergency', 'command'], scope: ['08'] },
        { name: 'bench editor', ...editor.signingKey, roles: ['content'], scope: ['08'] },
        { name: 'bench approver', ...approver.signingKey, roles: ['content'], scope: ['08'] },
      ],
    });
    await admin.put('/trust', policy);

    const tokens: string[] = [];
    for (let left = o.devices ?? 0; left > 0; left -= 500)
      tokens.push(
        await createEnrolmentToken(admin, {
          unit: '08/02500',
          kind: 'station',
          maxUses: Math.min(500, left),
        }),
      );

    const clipIds: string[] = [];
    const clipDurationsMs: number[] = [];
    const places = ['Sơn Dương', 'Hồng Lạc', 'Tân Trào', 'Minh Thanh', 'Kháng Nhật', 'Hợp Thành'];
    for (let k = 0; k < (o.emergencyClips ?? 0); k++) {
      const dir = join(o.dataDir, 'bench-src');
      mkdirSync(dir, { recursive: true });
      const wav = join(dir, `canh-bao-${k}.wav`);
      execFileSync('espeak-ng', [
        '-v',
        'vi',
        '-w',
        wav,
        `Cảnh báo lũ quét số ${k + 1} tại ${places[k % places.length]}. Người dân di chuyển lên vùng cao ngay.`,
      ]);
      const q = new URLSearchParams({
        title: `Cảnh báo lũ quét ${k + 1}`,
        unit: '08',
        lang: 'vi',
        name: `canh-bao-${k}.wav`,
      });
      const rec = await admin.call<{ id: string; durationMs?: number }>(
        'post',
        `/content/upload?${q}`,
        undefined,
        { raw: readFileSync(wav), contentType: 'audio/wav' },
      );
      clipIds.push(rec.id);
      clipDurationsMs.push(rec.durationMs ?? 0);
    }
    return { operator, editor, approver, tokens, clipIds, clipDurationsMs };
  });
  const { operator, editor, approver, tokens, clipIds, clipDurationsMs } = setup;

  const counts: Record<string, number> = {};
  /**
   * bundleId → when the server began publishing its emergency message to the broker and when the
   * broker's publish finished (the first publish of it: the broadcast, not an escalation re-send).
   */
  const published = new Map<string, { startAt: number; doneAt?: number }>();
  const broker = server.broker;
  const publish = broker.publish.bind(broker);
  broker.publish = (topic, payload, options) => {
    const id = parseTopic(topic)?.kind === 'emergency' ? emergencyId(payload) : undefined;
    if (id === undefined || published.has(id)) return publish(topic, payload, options);
    const rec: { startAt: number; doneAt?: number } = { startAt: now() };
    published.set(id, rec);
    return publish(topic, payload, options).then(() => {
      rec.doneAt = now();
    });
  };
  /** bundleId → emergency "started" proofs: when the audio started (agent) and when the server got it. */
  const starts = new Map<string, { deviceId: string; startedAt: number; receivedAt: number }[]>();
  const playing = new Map<string, Map<string, number>>();
  /** bundleId → signed "withdrawn" proofs (a recall obeyed): when the agent stopped it, when the server got it. */
  const withdrawn = new Map<string, { deviceId: string; at: number; receivedAt: number }[]>();
  /** bundleId → deviceId → state → when the device says it reached it (its own clock, `at`). */
  const stateTimes = new Map<string, Map<string, Record<string, number>>>();
  services.ingest.on((e) => {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (e.type === 'proof' && e.proof.outcome === 'started' && e.proof.bundleId) {
      const list = starts.get(e.proof.bundleId) ?? [];
      starts.set(e.proof.bundleId, list);
      list.push({
        deviceId: e.deviceId,
        startedAt: Date.parse(e.proof.startedAt ?? e.proof.at),
        receivedAt: now(),
      });
    }
    if (e.type === 'proof' && e.proof.outcome === 'withdrawn' && e.proof.bundleId) {
      const list = withdrawn.get(e.proof.bundleId) ?? [];
      withdrawn.set(e.proof.bundleId, list);
      list.push({ deviceId: e.deviceId, at: Date.parse(e.proof.at), receivedAt: now() });
    }
    if (e.type === 'status') {
      const byDevice = stateTimes.get(e.status.bundleId) ?? new Map<string, Record<string, number>>();
      stateTimes.set(e.status.bundleId, byDevice);
      const t = byDevice.get(e.deviceId) ?? {};
      byDevice.set(e.deviceId, t);
      t[e.status.state] ??= Date.parse(e.status.at);
    }
    if (e.type === 'status' && e.status.state === 'playing') {
      const m = playing.get(e.status.bundleId) ?? new Map<string, number>();
      playing.set(e.status.bundleId, m);
      if (!m.has(e.deviceId)) m.set(e.deviceId, now());
    }
  });

  return {
    httpPort: server.httpPort,
    mqttPort: server.mqttPort,
    info: {
      url: server.url,
      mqttUrl: server.mqttUrl,
      rootPublicKeyPem: publicKeyToPem(root.publicKey),
      tokens,
      operatorToken: operator.api.token,
      editorToken: editor.api.token,
      approverToken: approver.api.token,
      clipIds,
      clipDurationsMs,
    },
    stop: () => server.stop(),
    async query(what, arg) {
      if (what === 'stats')
        return {
          store: server.deps.store.stats(),
          counts: { ...counts },
          online: server.broker.onlineCount(),
        };
      if (what === 'playing') return [...(playing.get(String(arg))?.values() ?? [])];
      if (what === 'importBlobs') {
        // Bench setup: random files stored as content directly (this scenario measures serving,
        // not upload and transcoding). Returns content ids and their SHA-256.
        const { count, bytes, tag } = arg as { count: number; bytes: number; tag: string };
        const out: { id: string; sha256: string }[] = [];
        for (let i = 0; i < count; i++) {
          const tmp = services.blobs.tempPath('.ogg');
          writeFileSync(tmp, randomBytes(bytes));
          const stored = await services.blobs.importFile(tmp);
          const id = `bench-${tag}-${i}`;
          await server.deps.store.content.insert({
            id,
            kind: 'audio',
            title: `bench ${tag} ${i}`,
            lang: 'vi',
            unit: '08',
            sha256: stored.sha256,
            size: stored.size,
            mediaType: 'audio/ogg',
            durationMs: 60_000,
            createdBy: 'bench',
            createdAt: new Date().toISOString(),
          });
          out.push({ id, sha256: stored.sha256 });
        }
        return out;
      }
      if (what === 'proofs')
        return (await server.deps.store.proofs.query({ deviceId: String(arg) })).map((e) => ({
          outcome: e.proof.outcome,
          scheduledAt: e.proof.scheduledAt,
          startedAt: e.proof.startedAt,
        }));
      if (what === 'emergencyPublished') return published.get(String(arg)) ?? null;
      if (what === 'emergencyStarts') return starts.get(String(arg)) ?? [];
      if (what === 'withdrawn') return withdrawn.get(String(arg)) ?? [];
      if (what === 'statusTimes') {
        const { bundleId, deviceId } = arg as { bundleId: string; deviceId: string };
        return stateTimes.get(bundleId)?.get(deviceId) ?? {};
      }
      if (what === 'emergencyReceived')
        return (await services.emergency.view(String(arg))).devices.flatMap((d) =>
          d.receivedAt ? [Date.parse(d.receivedAt)] : [],
        );
      throw new Error(`unknown query ${what}`);
    },
  };
}
