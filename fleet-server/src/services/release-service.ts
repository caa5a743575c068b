/**
 * Agent releases on the server: a release signed OFFLINE under the `release` role (the server
 * holds no such key, see trust-service.ts) is uploaded with its artifact, verified against the
 * installed trust policy and kept (document in releases.json, artifact in the blob store).
 * Rollouts are staged (canary stations, one unit, all) and sent to each chosen station on
 * `d/{id}/release`; the stations' statuses fill the same rollout records bundles use, and a
 * failure (refused, or rolled back by the station) halts the rollout.
 */
import { readFile } from 'node:fs/promises';
import {
  deviceTopic,
  LoaError,
  RELEASE_CHANNEL,
  type Release,
  ReleaseNotifySchema,
  ReleaseSchema,
  type Status,
  targetMatches,
  unitCovers,
  verifyRelease,
} from '@loa/protocol';
import { removeStaleTemps, writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BrokerApi } from '../broker/types.js';
import {
  checkStageAllowed,
  type HaltRecord,
  pickCanaries,
  type ReleaseStage,
  type StageRecord,
} from '../domain/release-rollout.js';
import { applyStatus, type RolloutSummary, summarizeRollout } from '../domain/rollout.js';
import type { Store } from '../store/ports.js';
import type { BlobStore } from './blob-store.js';
import type { IngestService } from './ingest-service.js';
import type { Urls } from './notifier.js';
import type { TrustService } from './trust-service.js';

/** Largest agent artifact accepted (a station's install is ~30 MB uncompressed). */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

export interface ReleaseRecord {
  release: Release;
  uploadedAt: string;
  uploadedBy: string;
  stages: StageRecord[];
  halted?: HaltRecord;
}

const FileSchema = z.object({
  releases: z.array(
    z.object({
      release: ReleaseSchema,
      uploadedAt: z.string(),
      uploadedBy: z.string(),
      stages: z.array(
        z.object({
          stage: z.enum(['canary', 'unit', 'all']),
          devices: z.array(z.string()),
          unit: z.string().optional(),
          at: z.string(),
          by: z.string(),
        }),
      ),
      halted: z
        .object({
          deviceId: z.string().optional(),
          reason: z.string(),
          at: z.string(),
          by: z.string().optional(),
        })
        .optional(),
    }),
  ),
});

export interface ReleaseServiceDeps {
  file: string;
  store: Pick<Store, 'devices' | 'rollouts'>;
  blobs: BlobStore;
  trust: TrustService;
  broker: BrokerApi;
  ingest: Pick<IngestService, 'liveAll'>;
  urls: Urls;
  logger: Logger;
  now: () => number;
}

export interface FleetVersions {
  /** Stations per agent version ("?" when a station has not reported health yet). */
  versions: { agentVersion: string; devices: number; online: number }[];
  devices: { id: string; unit: string; agentVersion: string; online: boolean }[];
}

export class ReleaseService {
  readonly #d: ReleaseServiceDeps;
  #releases: ReleaseRecord[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(d: ReleaseServiceDeps) {
    this.#d = d;
  }

  async start(): Promise<void> {
    await removeStaleTemps(this.#d.file);
    try {
      this.#releases = FileSchema.parse(JSON.parse(await readFile(this.#d.file, 'utf8'))).releases;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new LoaError('RELEASES_CORRUPT', `cannot read ${this.#d.file}`, { cause: e });
    }
  }

  #iso(): string {
    return new Date(this.#d.now()).toISOString();
  }

  async #save(): Promise<void> {
    const next = this.#writing.then(async () => {
      await writeJsonAtomic(this.#d.file, { releases: this.#releases });
    });
    this.#writing = next.catch(() => undefined);
    await next;
  }

  list(): ReleaseRecord[] {
    return [...this.#releases].sort((a, b) => b.release.version - a.release.version);
  }

  get(id: string): ReleaseRecord {
    const r = this.#releases.find((x) => x.release.id === id);
    if (!r) throw new LoaError('RELEASE_NOT_FOUND', `không có bản phát hành ${id}`);
    return r;
  }

  /** Stores an uploaded artifact (request body) in the blob store; a release then names it by hash. */
  async uploadArtifact(body: ReadableStream<Uint8Array> | null): Promise<{ sha256: string; size: number }> {
    const staged = await this.#d.blobs.receive(body, MAX_ARTIFACT_BYTES, '.tar.gz');
    try {
      return await this.#d.blobs.importFile(staged.path);
    } finally {
      await this.#d.blobs.removeTemp(staged.path);
    }
  }

  /**
   * Verifies a signed release whose artifact was uploaded, and keeps it. Codes: the protocol's
   * (ROLE_NOT_AUTHORISED, SIGNATURE_INVALID, EXPIRED, …), BLOB_MISSING, BLOB_SIZE_MISMATCH,
   * VERSION_ROLLBACK, VERSION_CONFLICT.
   */
  async upload(raw: unknown, by: string): Promise<ReleaseRecord> {
    const latest = Math.max(0, ...this.#releases.map((r) => r.release.version));
    const { release } = verifyRelease(raw, { trust: this.#d.trust.require(), now: new Date(this.#d.now()) });
    if (release.channel !== RELEASE_CHANNEL)
      throw new LoaError('VALIDATION_FAILED', `agent releases travel on the "${RELEASE_CHANNEL}" channel`);
    if (this.#releases.some((r) => r.release.id === release.id || r.release.version === release.version))
      throw new LoaError('VERSION_CONFLICT', `release ${release.id} / ${release.version} exists`);
    if (release.version <= latest)
      throw new LoaError('VERSION_ROLLBACK', `release ${release.version} is not newer than ${latest}`);
    const blob = await this.#d.blobs.stat(release.artifact.sha256);
    if (!blob) throw new LoaError('BLOB_MISSING', 'tải tệp phần mềm (artifact) lên trước');
    if (blob.size !== release.artifact.size)
      throw new LoaError(
        'BLOB_SIZE_MISMATCH',
        `the artifact is ${blob.size} bytes, ${release.artifact.size} signed`,
      );
    const rec: ReleaseRecord = { release, uploadedAt: this.#iso(), uploadedBy: by, stages: [] };
    this.#releases.push(rec);
    await this.#save();
    return rec;
  }

  async rollout(
    id: string,
  ): Promise<{ record: ReleaseRecord; summary: RolloutSummary; entries: RolloutEntryOut[] }> {
    const record = this.get(id);
    const entries = await this.#d.store.rollouts.forBundle(id);
    const targeted = new Set(record.stages.flatMap((s) => s.devices)).size;
    return { record, summary: summarizeRollout(entries, targeted), entries };
  }

  /** Active devices the release targets, with whether each is online now. */
  async #candidates(r: Release, unit?: string): Promise<{ id: string; online: boolean; unit: string }[]> {
    const live = this.#d.ingest.liveAll();
    const out = new Map<string, { id: string; online: boolean; unit: string }>();
    for (const t of r.targets)
      for (const d of await this.#d.store.devices.inUnits([t.unit]))
        if (
          d.status === 'active' &&
          targetMatches(t, { unit: d.unit, deviceId: d.id, groups: d.groups }) &&
          (!unit || unitCovers(unit, d.unit))
        )
          out.set(d.id, { id: d.id, unit: d.unit, online: live.get(d.id)?.online ?? false });
    return [...out.values()];
  }

  /**
   * Starts a stage: canary (`devices`, or the first `count` targeted stations, default 3), unit
   * (every targeted station under `unit`), all. Sends the release to each station not sent yet.
   */
  async stage(
    id: string,
    input: { stage: ReleaseStage; devices?: string[]; count?: number; unit?: string },
    by: string,
  ): Promise<StageRecord> {
    const rec = this.get(id);
    const entries = await this.#d.store.rollouts.forBundle(id);
    checkStageAllowed(input.stage, rec.stages, entries, rec.halted);
    if (input.stage === 'unit' && !input.unit)
      throw new LoaError('VALIDATION_FAILED', 'bước "unit" cần mã địa bàn (unit)');
    const candidates = await this.#candidates(rec.release, input.stage === 'unit' ? input.unit : undefined);
    const devices =
      input.stage === 'canary'
        ? pickCanaries(candidates, input.count ?? 3, input.devices)
        : candidates.map((c) => c.id).sort();
    if (devices.length === 0)
      throw new LoaError('VALIDATION_FAILED', 'không có trạm nào đang hoạt động trong phạm vi bản phát hành');
    const sent = new Set(rec.stages.flatMap((s) => s.devices));
    const payload = ReleaseNotifySchema.parse({
      release: rec.release,
      artifactUrl: `${this.#d.urls.base()}/releases/${encodeURIComponent(id)}/artifact`,
      serverTime: this.#iso(),
    });
    for (const deviceId of devices) {
      if (sent.has(deviceId)) continue;
      await this.#d.store.rollouts.put({ bundleId: id, deviceId, state: 'notified', updatedAt: this.#iso() });
      await this.#d.broker.publish(deviceTopic(deviceId, 'release'), payload, { qos: 1 });
    }
    const st: StageRecord = {
      stage: input.stage,
      devices,
      ...(input.unit ? { unit: input.unit } : {}),
      at: this.#iso(),
      by,
    };
    rec.stages.push(st);
    await this.#save();
    this.#d.logger.info({ release: id, stage: st.stage, devices: devices.length }, 'release stage sent');
    return st;
  }

  /**
   * Halts a rollout by hand (a person saw something wrong): no further stage starts; stations
   * already sent the release keep it (each goes back by itself if it does not become ready).
   */
  async halt(id: string, reason: string, by: string): Promise<HaltRecord> {
    const rec = this.get(id);
    if (rec.halted)
      throw new LoaError('ROLLOUT_HALTED', 'Đợt triển khai đã dừng rồi', { details: { ...rec.halted } });
    rec.halted = { reason, at: this.#iso(), by };
    await this.#save();
    this.#d.logger.warn({ release: id, by, reason }, 'release rollout halted by hand');
    return rec.halted;
  }

  /** May this device download this release's artifact? (it was sent the release) */
  async deviceMay(id: string, deviceId: string): Promise<Release | undefined> {
    const rec = this.#releases.find((r) => r.release.id === id);
    if (!rec || !(await this.#d.store.rollouts.get(id, deviceId))) return undefined;
    return rec.release;
  }

  /** A station's status about a release: its rollout entry; a failure halts the rollout. */
  async applyStatus(deviceId: string, s: Status): Promise<void> {
    if (s.channel !== RELEASE_CHANNEL) return;
    const rec = this.#releases.find((r) => r.release.id === s.bundleId);
    if (!rec) return;
    const b = { id: rec.release.id, channel: rec.release.channel, version: rec.release.version };
    const next = applyStatus(
      await this.#d.store.rollouts.get(b.id, deviceId),
      s,
      b,
      deviceId,
      new Date(this.#d.now()),
    );
    if (next) await this.#d.store.rollouts.put(next);
    if (s.state === 'failed' && !rec.halted) {
      rec.halted = { deviceId, reason: s.reason ?? 'FAILED', at: this.#iso() };
      await this.#save();
      this.#d.logger.warn({ release: b.id, deviceId, reason: rec.halted.reason }, 'release rollout halted');
    }
  }

  /** Agent versions across the fleet (from the latest health of each station), within `scope`. */
  async fleetVersions(scope: readonly string[]): Promise<FleetVersions> {
    const live = this.#d.ingest.liveAll();
    const devices: FleetVersions['devices'] = [];
    for (const d of await this.#d.store.devices.inUnits(scope)) {
      if (d.status !== 'active') continue;
      const l = live.get(d.id);
      devices.push({
        id: d.id,
        unit: d.unit,
        agentVersion: l?.health?.agentVersion ?? '?',
        online: l?.online ?? false,
      });
    }
    const by = new Map<string, { agentVersion: string; devices: number; online: number }>();
    for (const d of devices) {
      const v = by.get(d.agentVersion) ?? { agentVersion: d.agentVersion, devices: 0, online: 0 };
      v.devices++;
      if (d.online) v.online++;
      by.set(d.agentVersion, v);
    }
    return { versions: [...by.values()].sort((a, b) => b.devices - a.devices), devices };
  }
}

type RolloutEntryOut = Awaited<ReturnType<Store['rollouts']['forBundle']>>[number];
