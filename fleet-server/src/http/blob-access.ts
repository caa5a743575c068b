/**
 * Who may download a blob (`GET /blobs/<sha256>`): content-addressed names are not secrets (a
 * hash can be guessed from a known file, or read in a manifest), so every download is checked
 * against the records that reference the blob.
 *   - A device: a published bundle whose targets match the device lists the blob.
 *   - A user: a content entry with this blob lies in the user's scope, or a bundle whose units
 *     are in the user's scope lists it.
 * Anything else is answered as absent (404), so a download cannot tell "exists elsewhere" from
 * "does not exist". The reference index is rebuilt from the registry every `ttlMs`, or on a miss
 * (a blob just published) at most every 200 ms.
 */
import { manifestBlobs, targetMatches } from '@loa/protocol';
import type { BundleRecord, DeviceRecord } from '../domain/model.js';
import { inScope } from '../domain/rbac.js';
import type { Store } from '../store/ports.js';

const MIN_REBUILD_MS = 200;

interface BlobRefs {
  /** Units of content entries holding the blob. */
  contentUnits: string[];
  bundles: BundleRecord[];
}

export class BlobAccess {
  private index = new Map<string, BlobRefs>();
  private builtAt = Number.NEGATIVE_INFINITY;
  private building: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<Store, 'content' | 'bundles'>,
    private readonly now: () => number,
    private readonly ttlMs = 2000,
  ) {}

  private refs(sha: string): BlobRefs {
    let r = this.index.get(sha);
    if (!r) {
      r = { contentUnits: [], bundles: [] };
      this.index.set(sha, r);
    }
    return r;
  }

  private async rebuild(): Promise<void> {
    const prev = this.index;
    this.index = new Map();
    try {
      for (const c of await this.store.content.list())
        if (c.sha256) this.refs(c.sha256).contentUnits.push(c.unit);
      for (const b of await this.store.bundles.list())
        for (const blob of manifestBlobs(b.manifest)) this.refs(blob.sha256).bundles.push(b);
      this.builtAt = this.now();
    } catch (e) {
      this.index = prev;
      throw e;
    }
  }

  private async fresh(force: boolean): Promise<void> {
    const age = this.now() - this.builtAt;
    // a miss may rebuild early, but never more than every MIN_REBUILD_MS: guessed hashes cannot
    // make the server rebuild the index per request
    if (age < (force ? MIN_REBUILD_MS : this.ttlMs)) return;
    this.building ??= this.rebuild().finally(() => {
      this.building = undefined;
    });
    await this.building;
  }

  /** Whether the caller may read the blob; a miss rebuilds the index once (a blob just added). */
  async allowed(
    who: { device: DeviceRecord } | { user: { scope: string[] } },
    sha: string,
  ): Promise<boolean> {
    await this.fresh(false);
    if (this.check(who, sha)) return true;
    await this.fresh(true);
    return this.check(who, sha);
  }

  private check(who: { device: DeviceRecord } | { user: { scope: string[] } }, sha: string): boolean {
    const r = this.index.get(sha);
    if (!r) return false;
    if ('device' in who) {
      const d = who.device;
      return r.bundles.some(
        (b) =>
          b.state === 'published' &&
          b.manifest.targets.some((t) =>
            targetMatches(t, { unit: d.unit, deviceId: d.id, groups: d.groups }),
          ),
      );
    }
    const user = who.user;
    return (
      r.contentUnits.some((u) => inScope(user, u)) ||
      r.bundles.some((b) => b.units.some((u) => inScope(user, u)))
    );
  }
}
