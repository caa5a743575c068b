/**
 * Bundle store: fetches bundles from the fleet server (per blob, Range resume) or imports them
 * from a directory or a .tar (USB stick), verifies them under the trust policy, and activates
 * them atomically. Layout under `dir`:
 *   blobs/<sha256>           verified content, shared by every bundle
 *   partial/<sha256>         downloads in progress (resumed with Range)
 *   manifests/<digest>.json  verified manifests
 *   current.json             the pointer: per channel the active bundle and the previous one
 *   recalled.json            bundles withdrawn by signed recalls (recall-list.ts), refused from then on
 *   choices.json             the programme choices of the station's units (choices-list.ts)
 * Activation = manifests and blobs durable first, then current.json replaced atomically; a kill -9
 * at any moment leaves the old or the new bundle active, never a broken one.
 */
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BlobRef,
  type Choices,
  type Clock,
  type DeviceIdentity,
  documentDigest,
  type InlineBlob,
  isLoaError,
  LoaError,
  MAX_MANIFEST_BYTES,
  type Manifest,
  manifestBlobs,
  type Notify,
  type Recall,
  RecallSchema,
  type Status,
  type TrustPolicy,
  unitCovers,
  type VerifiedManifest,
  type VerifyManifestOptions,
  verifyChoices,
  verifyManifest,
  verifyRecall,
} from '@loa/protocol';
import {
  blobPath,
  fsyncDir,
  parseManifestUnverified,
  readManifestBytes,
  readTarManifest,
  unpackBundle,
  verifyBlobFile,
  verifyBundleDir,
  writeFileAtomic,
  writeJsonAtomic,
} from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PlanBundle } from '../../domain/scheduler/types.js';
import { Emitter } from '../../events.js';
import { type HttpFetch, type HttpResponse, httpFetch } from '../../http/client.js';
import { ensureDir, exists, readJsonFile, SerialQueue } from '../system/data-dir.js';
import { downloadBlob } from './blob-download.js';
import { ChoicesList } from './choices-list.js';
import { RecallList } from './recall-list.js';

const EntrySchema = z.object({
  id: z.string(),
  version: z.number().int(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  activatedAt: z.string(),
});
type Entry = z.infer<typeof EntrySchema>;
const PointerSchema = z.object({
  format: z.literal(1),
  channels: z.record(z.string(), z.object({ current: EntrySchema, previous: EntrySchema.optional() })),
});
type Pointer = z.infer<typeof PointerSchema>;

/** The bundle active on a channel: its pointer entry and verified manifest. */
export interface ActiveBundle {
  channel: string;
  id: string;
  version: number;
  digest: string;
  activatedAt: string;
  manifest: Manifest;
}

export interface BundleStoreOptions {
  dir: string;
  trust: () => TrustPolicy | undefined;
  device: () => DeviceIdentity | undefined;
  clock: Clock;
  logger: Logger;
  fetch?: HttpFetch;
  /** Extra HTTP headers (device credentials) for manifest and blob requests. */
  headers?: () => Record<string, string>;
  idleTimeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  /**
   * The store records its owner's pid in `.lock`. 'take' (the agent) always takes it over;
   * 'exclusive' (the --import command) refuses with BUNDLE_STORE_BUSY while the owner runs.
   */
  lock?: 'take' | 'exclusive';
  /**
   * Whether the clock is trusted (default: always). While it is not, a bundle is not refused as
   * "not valid yet" (an offline station's clock may be years behind), and `signedTime` hears each
   * verified bundle's creation time, so the untrusted clock is never earlier than it.
   */
  clockTrusted?: () => boolean;
  signedTime?: (ms: number, what: string) => void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LastError {
  code: string;
  message: string;
  at: string;
}

export type BundleStoreEvents = {
  /** A bundle became active on its channel (download, emergency, import or rollback). */
  activated: ActiveBundle;
  /** A bundle was refused; the active one keeps playing. */
  rejected: Pick<Status, 'bundleId' | 'channel' | 'version'> & { code: string; message: string };
  /** Rollout progress of a bundle, for the fleet server. */
  status: Status;
  /** A signed recall was obeyed: the bundle left the programme (`wasActive`: it was in it). */
  withdrawn: Withdrawal;
  /** A newer programme choices document of one of the station's units was applied. */
  choices: Choices;
};

export interface Withdrawal {
  recall: Recall;
  /** The recalled bundle's manifest when the station held it. */
  manifest?: Manifest;
  wasActive: boolean;
}

export class BundleStore extends Emitter<BundleStoreEvents> {
  private readonly o: BundleStoreOptions;
  private readonly log: Logger;
  private readonly queue = new SerialQueue();
  private pointer: Pointer = { format: 1, channels: {} };
  private readonly manifests = new Map<string, Manifest>();
  private recalls: RecallList;
  private readonly choicesList: ChoicesList;
  /**
   * Bundles named by a valid recall that has arrived and waits its turn in the queue: a bundle
   * installed meanwhile (an emergency whose audio came inside the message, delivered just before
   * its recall after the station was offline) is refused at activation, so it never starts.
   */
  private readonly recallsArriving = new Set<string>();
  private stopCtrl = new AbortController();
  lastError: LastError | undefined;

  constructor(o: BundleStoreOptions) {
    super();
    this.o = o;
    this.log = o.logger.child({ module: 'bundle-store' });
    this.recalls = new RecallList(join(o.dir, 'recalled.json'), this.log);
    this.choicesList = new ChoicesList(join(o.dir, 'choices.json'), this.log);
  }

  private p(...parts: string[]): string {
    return join(this.o.dir, ...parts);
  }
  blobFile(sha256: string): string {
    return this.p('blobs', sha256);
  }

  async start(): Promise<void> {
    this.stopCtrl = new AbortController();
    for (const d of ['blobs', 'partial', 'manifests']) await ensureDir(this.p(d), 0o755);
    const owner = Number((await readFile(this.p('.lock'), 'utf8').catch(() => '')).trim());
    if (this.o.lock === 'exclusive' && owner && owner !== process.pid && processAlive(owner))
      throw new LoaError(
        'BUNDLE_STORE_BUSY',
        `Kho bản tin đang được tiến trình ${owner} dùng: dừng dịch vụ loa-agent trước khi nhập`,
      );
    await writeFileAtomic(this.p('.lock'), `${process.pid}\n`, 0o644);
    for (const name of await readdir(this.o.dir))
      if (name.startsWith('staging-') || name.endsWith('.tmp'))
        await rm(this.p(name), { recursive: true, force: true });
    await this.recalls.load();
    await this.choicesList.load();
    let ptr: Pointer | undefined;
    try {
      ptr = await readJsonFile(this.p('current.json'), PointerSchema);
    } catch (err) {
      this.log.error({ err }, 'bundle pointer unreadable; starting without bundles');
    }
    const next: Pointer = { format: 1, channels: {} };
    let changed = false;
    for (const [channel, slot] of Object.entries(ptr?.channels ?? {})) {
      const cur = (await this.usable(slot.current)) ? slot.current : undefined;
      const prev = slot.previous && (await this.usable(slot.previous)) ? slot.previous : undefined;
      if (!cur) {
        changed = true;
        this.log.error({ channel, digest: slot.current.digest }, 'active bundle broken; falling back');
      }
      const current = cur ?? prev;
      if (current) next.channels[channel] = cur && prev ? { current, previous: prev } : { current };
    }
    this.pointer = next;
    if (changed) await writeJsonAtomic(this.p('current.json'), next, 0o644);
    for (const b of this.active()) this.o.signedTime?.(Date.parse(b.manifest.created), b.id);
    this.log.info({ channels: this.active().map((b) => `${b.channel}@${b.version}`) }, 'bundle store ready');
  }

  async stop(): Promise<void> {
    this.stopCtrl.abort(new LoaError('STOPPING', 'the bundle store is stopping'));
    await this.queue.run(async () => undefined);
    const owner = Number((await readFile(this.p('.lock'), 'utf8').catch(() => '')).trim());
    if (owner === process.pid) await rm(this.p('.lock'), { force: true });
  }

  /** The active bundles as the planner takes them: manifest, blob directory, activation time. */
  planBundles(): PlanBundle[] {
    const blobDir = this.p('blobs');
    return this.active().map((b) => ({
      manifest: b.manifest,
      blobDir,
      activatedAt: Date.parse(b.activatedAt),
    }));
  }

  /** The programme choices the scheduler applies (those of units that cover this station). */
  choices(): Choices[] {
    const unit = this.o.device()?.unit;
    return this.choicesList.documents().filter((c) => unit === undefined || unitCovers(c.unit, unit));
  }

  /**
   * Applies a signed programme choices document (protocol/src/choices.ts): verified under the
   * trust policy (content role, scope over its unit, the unit one of the station's, a newer
   * version than the one held), recorded durably, then the player re-plans. Resolves false for
   * a version already held; throws a LoaError with a stable code for one refused.
   */
  applyChoices(raw: unknown): Promise<boolean> {
    return this.queue.run(async () => {
      try {
        const trust = this.o.trust();
        if (!trust) throw new LoaError('TRUST_MISSING', 'Trạm chưa có chính sách tin cậy (chưa đăng ký)');
        const device = this.o.device();
        const unit = (raw as { unit?: unknown } | null)?.unit;
        const installed = typeof unit === 'string' ? this.choicesList.version(unit) : undefined;
        if (installed !== undefined && (raw as { version?: unknown }).version === installed) return false;
        const { choices, digest } = verifyChoices(raw, {
          trust,
          now: new Date(this.o.clock.now()),
          ...(device ? { deviceUnit: device.unit } : {}),
          ...(installed !== undefined ? { installedVersion: installed } : {}),
        });
        await this.choicesList.put(choices, digest, this.o.clock.now(), (u) =>
          device ? unitCovers(u, device.unit) : true,
        );
        this.log.info(
          { unit: choices.unit, version: choices.version, optOut: choices.optOut.length },
          'programme choices applied',
        );
        this.emit('choices', choices);
        return true;
      } catch (e) {
        const code = isLoaError(e) ? e.code : 'CHOICES_FAILED';
        const message = (e as Error).message.slice(0, 500);
        this.lastError = { code, message, at: new Date(this.o.clock.now()).toISOString() };
        this.log.warn({ code, message }, 'programme choices refused');
        throw e;
      }
    });
  }

  /** The active bundle of each channel. */
  active(): ActiveBundle[] {
    return Object.entries(this.pointer.channels).flatMap(([channel, slot]) => {
      const manifest = this.manifests.get(slot.current.digest);
      return manifest ? [{ channel, ...slot.current, manifest }] : [];
    });
  }

  /** Fetches the bundle a notify message announces (skipped when not newer than the active one). */
  fetchNotified(n: Notify): Promise<ActiveBundle | undefined> {
    return this.queue.run(async () => {
      const cur = this.pointer.channels[n.channel]?.current;
      if (cur && cur.version >= n.version) return undefined;
      const base = { bundleId: n.bundleId, channel: n.channel, version: n.version };
      return this.guard(base, async () => {
        const r = this.recalls.get(n.bundleId);
        if (r) throw recalledError(r.bundleId, r.reason);
        this.status(base, 'downloading');
        const bytes = await this.fetchManifest(n.manifestUrl);
        const verified = verifyManifest(bytes, this.verifyOpts(n.channel));
        return this.installVerified(verified, bytes, n.blobBase);
      });
    });
  }

  /**
   * Installs a manifest received inline (emergency). Blobs the message carries (`inline`, short
   * spoken audio) are taken from it once the signed manifest is verified and each one's size and
   * SHA-256 match the manifest's entry; the others, and any inline copy that does not match, are
   * fetched from `blobBase`. The very manifest already active (a message delivered twice, as a
   * QoS 1 redelivery) is not activated again: that would start the emergency on air over.
   */
  installInline(
    manifest: Manifest,
    blobBase: string,
    inline: readonly InlineBlob[] = [],
  ): Promise<ActiveBundle | undefined> {
    return this.queue.run(async () => {
      const base = { bundleId: manifest.id, channel: manifest.channel, version: manifest.version };
      return this.guard(base, async () => {
        const bytes = Buffer.from(JSON.stringify(manifest));
        const verified = verifyManifest(manifest, this.verifyOpts(manifest.channel));
        if (this.pointer.channels[manifest.channel]?.current.digest === verified.digest) return undefined;
        const carried = new Map(inline.map((b) => [b.sha256, b.data] as const));
        return this.installVerified(verified, bytes, blobBase, carried);
      });
    });
  }

  /**
   * Writes a blob carried in a message when it is the one the verified manifest names (size and
   * SHA-256); false (and a warning with INLINE_BLOB_MISMATCH) when it is not, so it is downloaded.
   */
  private async takeInline(b: BlobRef, base64: string): Promise<boolean> {
    const data = Buffer.from(base64, 'base64');
    const digest = createHash('sha256').update(data).digest('hex');
    if (data.length !== b.size || digest !== b.sha256) {
      this.log.warn(
        { code: 'INLINE_BLOB_MISMATCH', sha256: b.sha256, size: data.length, expected: b.size },
        'audio carried in the message does not match the signed manifest; downloading it',
      );
      return false;
    }
    await writeFileAtomic(this.blobFile(b.sha256), data, 0o644);
    return true;
  }

  /** Imports a bundle directory or a bundle .tar (USB stick). */
  importPath(path: string): Promise<ActiveBundle | undefined> {
    return this.queue.run(async () => {
      const isDir = (await stat(path)).isDirectory();
      const bytes = isDir ? await readManifestBytes(path) : await readTarManifest(path);
      const m = parseManifestUnverified(bytes);
      const base = { bundleId: m.id, channel: m.channel, version: m.version };
      return this.guard(base, async () => {
        if (isDir) {
          const verified = await verifyBundleDir(path, this.verifyOpts(m.channel));
          for (const b of manifestBlobs(verified.manifest)) {
            if (await exists(this.blobFile(b.sha256))) continue;
            const part = this.p('partial', `${b.sha256}.import`);
            await copyFile(blobPath(path, b.sha256), part);
            await verifyBlobFile(part, b); // the stick may change under us
            await rename(part, this.blobFile(b.sha256));
          }
          await fsyncDir(this.p('blobs'));
          return this.activate(verified, bytes);
        }
        const staging = this.p(`staging-${Date.now().toString(36)}`);
        try {
          const verified = await unpackBundle(path, staging, this.verifyOpts(m.channel));
          for (const b of manifestBlobs(verified.manifest))
            if (!(await exists(this.blobFile(b.sha256))))
              await rename(blobPath(staging, b.sha256), this.blobFile(b.sha256));
          await fsyncDir(this.p('blobs'));
          return this.activate(verified, bytes);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      });
    });
  }

  /** Makes the previous bundle of a channel active again. */
  rollback(channel: string): Promise<ActiveBundle> {
    return this.queue.run(async () => {
      const slot = this.pointer.channels[channel];
      if (!slot?.previous)
        throw new LoaError('NO_PREVIOUS_BUNDLE', `Kênh ${channel} không có bản tin trước để quay lại`);
      const next = structuredClone(this.pointer);
      next.channels[channel] = { current: slot.previous, previous: slot.current };
      await writeJsonAtomic(this.p('current.json'), next, 0o644);
      this.pointer = next;
      const b = this.active().find((a) => a.channel === channel) as ActiveBundle;
      this.emit('activated', b);
      return b;
    });
  }

  /** The bundles recalled on this station (technician page, tests). */
  recalled(): { bundleId: string; channel: string; version: number; reason: string; at: string }[] {
    return this.recalls.list().map(({ bundleId, channel, version, reason, at }) => ({
      bundleId,
      channel,
      version,
      reason,
      at,
    }));
  }

  /**
   * Obeys a signed recall: verified under the trust policy (and against the recalled manifest
   * when the station holds it), recorded durably, then the bundle leaves the pointer (its channel
   * falls back to the previous bundle, or is emptied). Resolves undefined for a recall already
   * obeyed; throws a LoaError with a stable code for one refused.
   */
  withdraw(raw: unknown): Promise<Withdrawal | undefined> {
    const arriving = this.noteArrivingRecall(raw);
    return this.queue.run(async () => {
      try {
        const trust = this.o.trust();
        if (!trust) throw new LoaError('TRUST_MISSING', 'Trạm chưa có chính sách tin cậy (chưa đăng ký)');
        const named = RecallSchema.safeParse(raw);
        const held = named.success ? this.held(named.data.bundleId) : undefined;
        const device = this.o.device();
        const { recall, digest } = verifyRecall(raw, {
          trust,
          now: new Date(this.o.clock.now()),
          ...(device ? { device } : {}),
          ...(held ? { manifest: held } : {}),
        });
        if (this.recalls.get(recall.bundleId)) return undefined;
        await this.recalls.add(recall, digest, this.o.clock.now());
        const next = structuredClone(this.pointer);
        const slot = next.channels[recall.channel];
        let wasActive = false;
        if (slot?.current.id === recall.bundleId) {
          wasActive = true;
          const prev = slot.previous;
          if (prev && !this.recalls.get(prev.id)) next.channels[recall.channel] = { current: prev };
          else delete next.channels[recall.channel];
        } else if (slot?.previous?.id === recall.bundleId) {
          next.channels[recall.channel] = { current: slot.current };
        }
        if (slot) {
          await writeJsonAtomic(this.p('current.json'), next, 0o644);
          this.pointer = next;
        }
        this.log.warn(
          { bundle: recall.bundleId, channel: recall.channel, version: recall.version, wasActive },
          'bundle recalled: withdrawn from the programme',
        );
        const w: Withdrawal = { recall, wasActive, ...(held ? { manifest: held } : {}) };
        this.emit('withdrawn', w);
        await this.collect();
        return w;
      } catch (e) {
        const code = isLoaError(e) ? e.code : 'RECALL_FAILED';
        const message = (e as Error).message.slice(0, 500);
        this.lastError = { code, message, at: new Date(this.o.clock.now()).toISOString() };
        this.log.warn({ code, message }, 'recall refused');
        throw e;
      } finally {
        if (arriving) this.recallsArriving.delete(arriving);
      }
    });
  }

  /** The manifest of a bundle the pointer holds (current or previous of any channel). */
  private held(bundleId: string): Manifest | undefined {
    for (const slot of Object.values(this.pointer.channels))
      for (const e of [slot.current, slot.previous])
        if (e?.id === bundleId) return this.manifests.get(e.digest);
    return undefined;
  }

  private verifyOpts(channel: string): VerifyManifestOptions {
    const trust = this.o.trust();
    if (!trust) throw new LoaError('TRUST_MISSING', 'Trạm chưa có chính sách tin cậy (chưa đăng ký)');
    const cur = this.pointer.channels[channel]?.current;
    const device = this.o.device();
    return {
      trust,
      now: new Date(this.o.clock.now()),
      ...(this.o.clockTrusted && !this.o.clockTrusted() ? { clockTrusted: false } : {}),
      ...(device ? { device } : {}),
      ...(cur ? { installed: { version: cur.version, digest: cur.digest } } : {}),
    };
  }

  private async guard(
    base: Pick<Status, 'bundleId' | 'channel' | 'version'>,
    run: () => Promise<ActiveBundle | undefined>,
  ): Promise<ActiveBundle | undefined> {
    try {
      const b = await run();
      this.status(base, 'active');
      return b;
    } catch (e) {
      const code = isLoaError(e) ? e.code : 'BUNDLE_FAILED';
      const message = (e as Error).message.slice(0, 500);
      this.lastError = { code, message, at: new Date(this.o.clock.now()).toISOString() };
      this.log.warn({ ...base, code, message }, 'bundle rejected; the active bundle keeps playing');
      this.status(base, 'failed', { reason: code.slice(0, 64), message });
      this.emit('rejected', { ...base, code, message });
      throw e;
    }
  }

  private status(
    base: Pick<Status, 'bundleId' | 'channel' | 'version'>,
    state: Status['state'],
    extra = {},
  ): void {
    const s: Status = { ...base, state, at: new Date(this.o.clock.now()).toISOString(), ...extra };
    this.emit('status', s);
  }

  private async fetchManifest(url: string): Promise<Buffer> {
    const f = this.o.fetch ?? httpFetch;
    const signal = AbortSignal.any([
      this.stopCtrl.signal,
      AbortSignal.timeout(this.o.idleTimeoutMs ?? 30_000),
    ]);
    let res: HttpResponse;
    try {
      res = await f(url, { headers: this.o.headers?.() ?? {}, signal });
    } catch (cause) {
      throw new LoaError('DOWNLOAD_FAILED', `Không tải được bản kê ${url}`, { cause });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new LoaError('DOWNLOAD_HTTP', `HTTP ${res.status} khi tải ${url}`, {
        details: { status: res.status },
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body ?? []) {
      size += c.byteLength;
      if (size > MAX_MANIFEST_BYTES) {
        await res.body?.cancel().catch(() => undefined);
        throw new LoaError(
          'MANIFEST_TOO_LARGE',
          `the manifest at ${url} is larger than ${MAX_MANIFEST_BYTES} bytes`,
        );
      }
      chunks.push(Buffer.from(c));
    }
    return Buffer.concat(chunks);
  }

  private async installVerified(
    v: VerifiedManifest,
    bytes: Buffer,
    blobBase: string,
    carried: ReadonlyMap<string, string> = new Map(),
  ): Promise<ActiveBundle> {
    const recalled = this.recalls.blocking(v.manifest);
    if (recalled) throw recalledError(v.manifest.id, recalled.reason);
    const blobs = manifestBlobs(v.manifest);
    const total = blobs.reduce((n, b) => n + b.size, 0);
    const base = { bundleId: v.manifest.id, channel: v.manifest.channel, version: v.manifest.version };
    let done = 0;
    for (const b of blobs) {
      if (await exists(this.blobFile(b.sha256))) {
        done += b.size;
        continue;
      }
      const inline = carried.get(b.sha256);
      if (inline !== undefined && (await this.takeInline(b, inline))) {
        done += b.size;
        continue;
      }
      const url = `${blobBase.replace(/\/+$/, '')}/${b.sha256}`;
      await downloadBlob(url, this.p('partial', b.sha256), this.blobFile(b.sha256), b, {
        fetch: this.o.fetch ?? httpFetch,
        idleTimeoutMs: this.o.idleTimeoutMs ?? 30_000,
        attempts: this.o.attempts ?? 6,
        backoffMs: this.o.backoffMs ?? 1000,
        logger: this.log,
        signal: this.stopCtrl.signal,
        ...(this.o.headers ? { headers: this.o.headers } : {}),
      });
      done += b.size;
      this.status(base, 'downloading', { bytes: done, totalBytes: total });
    }
    this.status(base, 'verified');
    return this.activate(v, bytes);
  }

  /**
   * Checks a recall as it arrives (before it waits in the queue) and, when it is valid, marks its
   * bundle so that no install still in progress activates it. The id marked, or undefined.
   */
  private noteArrivingRecall(raw: unknown): string | undefined {
    try {
      const trust = this.o.trust();
      if (!trust) return undefined;
      const named = RecallSchema.safeParse(raw);
      const held = named.success ? this.held(named.data.bundleId) : undefined;
      const device = this.o.device();
      const { recall } = verifyRecall(raw, {
        trust,
        now: new Date(this.o.clock.now()),
        ...(device ? { device } : {}),
        ...(held ? { manifest: held } : {}),
      });
      if (this.recallsArriving.has(recall.bundleId)) return undefined;
      this.recallsArriving.add(recall.bundleId);
      return recall.bundleId;
    } catch {
      return undefined; // refused in its turn, with its code
    }
  }

  /** Manifest durable, then the pointer replaced atomically; then unreferenced files collected. */
  private async activate(v: VerifiedManifest, bytes: Buffer): Promise<ActiveBundle> {
    const { manifest, digest } = v;
    const recalled = this.recalls.blocking(manifest);
    if (recalled) throw recalledError(manifest.id, recalled.reason);
    if (this.recallsArriving.has(manifest.id)) throw recalledError(manifest.id, 'recall received');
    await writeFileAtomic(this.p('manifests', `${digest}.json`), bytes, 0o644);
    // a recall may have arrived while the manifest was written
    if (this.recallsArriving.has(manifest.id)) throw recalledError(manifest.id, 'recall received');
    this.manifests.set(digest, manifest);
    // Verified and signed at `created`: an untrusted clock behind it moves up to it first, so the
    // bundle's activation (an emergency's "now") falls inside its validity.
    this.o.signedTime?.(Date.parse(manifest.created), manifest.id);
    const entry: Entry = {
      id: manifest.id,
      version: manifest.version,
      digest,
      activatedAt: new Date(this.o.clock.now()).toISOString(),
    };
    const next = structuredClone(this.pointer);
    const old = next.channels[manifest.channel]?.current;
    next.channels[manifest.channel] =
      old && old.digest !== digest ? { current: entry, previous: old } : { current: entry };
    await writeJsonAtomic(this.p('current.json'), next, 0o644);
    this.pointer = next;
    const active: ActiveBundle = { channel: manifest.channel, ...entry, manifest };
    this.log.info({ channel: manifest.channel, id: manifest.id, version: manifest.version }, 'bundle active');
    this.emit('activated', active);
    await this.collect();
    return active;
  }

  /** Loads and checks a pointer entry: manifest present and matching, blobs present with their size. */
  private async usable(e: Entry): Promise<boolean> {
    try {
      const m = parseManifestUnverified(await readFile(this.p('manifests', `${e.digest}.json`)));
      if (documentDigest(m) !== e.digest) return false;
      for (const b of manifestBlobs(m))
        if ((await stat(this.blobFile(b.sha256))).size !== b.size) return false;
      this.manifests.set(e.digest, m);
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes blobs, manifests and stale partials that no current or previous bundle references. */
  private async collect(): Promise<void> {
    const digests = new Set<string>();
    for (const slot of Object.values(this.pointer.channels)) {
      digests.add(slot.current.digest);
      if (slot.previous) digests.add(slot.previous.digest);
    }
    const keep = new Set<string>();
    for (const d of digests) {
      const m =
        this.manifests.get(d) ?? parseManifestUnverified(await readFile(this.p('manifests', `${d}.json`)));
      this.manifests.set(d, m);
      for (const b of manifestBlobs(m)) keep.add(b.sha256);
    }
    for (const d of [...this.manifests.keys()]) if (!digests.has(d)) this.manifests.delete(d);
    let removed = 0;
    for (const name of await readdir(this.p('manifests')))
      if (!digests.has(name.replace(/\.json$/, ''))) {
        await rm(this.p('manifests', name), { force: true });
        removed++;
      }
    for (const name of await readdir(this.p('blobs')))
      if (!keep.has(name)) {
        await rm(this.p('blobs', name), { force: true });
        removed++;
      }
    const staleMs = 3 * 86_400_000;
    for (const name of await readdir(this.p('partial'))) {
      const st = await stat(this.p('partial', name)).catch(() => undefined);
      if (!st || keep.has(name) || this.o.clock.now() - st.mtimeMs > staleMs)
        await rm(this.p('partial', name), { force: true });
    }
    if (removed) this.log.info({ removed }, 'unreferenced bundle files collected');
  }
}

function recalledError(bundleId: string, reason: string): LoaError {
  return new LoaError('BUNDLE_RECALLED', `Gói tin ${bundleId} đã bị gỡ: ${reason}`.slice(0, 500));
}
