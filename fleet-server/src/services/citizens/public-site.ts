/**
 * The public side of a unit, cached: its feed (domain/citizens/public-feed.ts), its stations with
 * which are on air, and answers published from feedback. A unit's view is computed once and kept
 * until something that could change it happens (a programme or emergency event, a feedback answer)
 * or `maxAgeMs` passes (on-air state and "today" move on their own), so a thousand phones opening
 * the page after an emergency cost one computation. `version` names the view for ETags.
 */
import { createHash } from 'node:crypto';
import { LoaError } from '@loa/protocol';
import {
  type PublicFeed,
  publicAudio,
  publicAudioAll,
  publicFeed,
} from '../../domain/citizens/public-feed.js';
import type { ContentRecord, FeedbackRecord, UnitRecord } from '../../domain/model.js';
import type { Store } from '../../store/ports.js';

export interface PublicStation {
  name: string;
  kind: 'station' | 'noticeboard';
  lat?: number;
  lon?: number;
  online: boolean;
  onAir: boolean;
}

export interface PublicView {
  unit: UnitRecord;
  /** Ancestors' names, top first (e.g. the province). */
  parents: string[];
  feed: PublicFeed;
  stations: PublicStation[];
  answers: Pick<FeedbackRecord, 'id' | 'topic' | 'text' | 'answer' | 'answeredAt'>[];
  audio: Set<string>;
  version: string;
  builtAt: number;
}

export interface PublicSiteDeps {
  store: Store;
  /** Live state of devices (online, health.onAir). */
  live?: (deviceId: string) => { online: boolean; onAir: boolean } | undefined;
  answers: (unit: string) => Promise<FeedbackRecord[]>;
  now: () => number;
  maxAgeMs?: number;
}

export class PublicSite {
  readonly #cache = new Map<string, Promise<PublicView>>();
  #generation = 0;
  constructor(private readonly d: PublicSiteDeps) {}

  #audio: { at: number; set: Promise<Set<string>> } | undefined;

  /** True when some unit's public page may play this audio blob (else it answers 404). */
  async isPublicAudio(sha256: string): Promise<boolean> {
    const now = this.d.now();
    if (!this.#audio || now - this.#audio.at > (this.d.maxAgeMs ?? 30_000)) {
      const set = (async () => {
        const bundles = await this.d.store.bundles.list((b) => b.state === 'published');
        const content = new Map<string, ContentRecord>();
        for (const c of await this.d.store.content.list((c) => c.public === true)) content.set(c.id, c);
        return publicAudioAll(bundles, content);
      })();
      this.#audio = { at: now, set };
      set.catch(() => {
        this.#audio = undefined;
      });
    }
    return (await this.#audio.set).has(sha256);
  }

  /** Drops every cached view (a programme, an emergency or an answer changed). */
  invalidate(): void {
    this.#generation++;
    this.#cache.clear();
    this.#audio = undefined;
  }

  get generation(): number {
    return this.#generation;
  }

  async view(unitPath: string): Promise<PublicView> {
    const hit = this.#cache.get(unitPath);
    if (hit) {
      const v = await hit.catch(() => undefined);
      if (v && this.d.now() - v.builtAt < (this.d.maxAgeMs ?? 30_000)) return v;
      if (this.#cache.get(unitPath) === hit) this.#cache.delete(unitPath);
    }
    let p = this.#cache.get(unitPath);
    if (!p) {
      p = this.#build(unitPath);
      this.#cache.set(unitPath, p);
      p.catch(() => this.#cache.delete(unitPath));
      if (this.#cache.size > 5000) {
        const first = this.#cache.keys().next().value;
        if (first !== undefined) this.#cache.delete(first);
      }
    }
    return p;
  }

  async #build(unitPath: string): Promise<PublicView> {
    const { store } = this.d;
    const unit = await store.units.get(unitPath);
    if (!unit) throw new LoaError('UNIT_NOT_FOUND', 'Không có đơn vị hành chính này');
    const parents: string[] = [];
    for (let p = unit.parent; p; ) {
      const u = await store.units.get(p);
      if (!u) break;
      parents.unshift(u.name);
      p = u.parent;
    }
    const now = this.d.now();
    const bundles = await store.bundles.list((b) => b.state === 'published');
    const content = new Map<string, ContentRecord>();
    for (const c of await store.content.list((c) => c.public === true)) content.set(c.id, c);
    const feed = publicFeed(unitPath, bundles, content, now);
    const devices = await store.devices.inUnits([unitPath]);
    const stations: PublicStation[] = devices
      .filter((d) => d.status === 'active')
      .map((d) => {
        const l = this.d.live?.(d.id);
        const s: PublicStation = {
          name: d.name,
          kind: d.kind,
          online: l?.online ?? false,
          onAir: l?.onAir ?? false,
        };
        if (d.location) {
          s.lat = d.location.lat;
          s.lon = d.location.lon;
        }
        return s;
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const answers = (await this.d.answers(unitPath)).map((f) => ({
      id: f.id,
      topic: f.topic,
      text: f.text,
      ...(f.answer ? { answer: f.answer } : {}),
      ...(f.answeredAt ? { answeredAt: f.answeredAt } : {}),
    }));
    const version = createHash('sha256')
      .update(JSON.stringify([feed, stations, answers, new Date(now).toISOString().slice(0, 10)]))
      .digest('base64url')
      .slice(0, 16);
    return { unit, parents, feed, stations, answers, audio: publicAudio(feed), version, builtAt: now };
  }
}
