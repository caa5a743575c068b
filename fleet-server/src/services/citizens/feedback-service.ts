/**
 * Citizens' feedback: public submission (rate limits per address and per unit, a proof of work,
 * size caps, the photo re-encoded), the unit staff's triage (assign, due date, answer, close),
 * delivery of an answer to the contact through the `feedback.answered` webhook (a mail or SMS
 * relay subscribes to it; with none the answer waits as `pending` for staff to deliver), the
 * answer on the public page, a bulletin draft made from it in one step, ratings and survey
 * answers, and counts for the dashboard and reports (`counts`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { LoaError, unitCovers } from '@loa/protocol';
import type { Logger } from 'pino';
import { withDefaults } from '../../defaults.js';
import {
  checkTransition,
  countFeedback,
  type FeedbackCounts,
  type FeedbackInput,
} from '../../domain/citizens/feedback.js';
import { TokenBucket } from '../../domain/limits.js';
import type { FeedbackRecord, FeedbackStatus, RatingRecord } from '../../domain/model.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import type { Store } from '../../store/ports.js';
import type { BlobStore } from '../blob-store.js';
import type { ContentService } from '../content-service.js';
import type { Publisher } from '../publisher.js';
import type { WebhookService } from '../webhooks.js';
import type { ChallengeIssuer } from './challenge.js';
import type { PhotoIntake } from './photo-intake.js';

export const FEEDBACK_DEFAULTS = {
  /** Days the unit has to answer (Law on Reception of Citizens: 10 working days ≈ 14 days). */
  answerDays: 14,
  /** Submissions per address: burst, then one per `perAddressEveryS`. */
  perAddressBurst: 5,
  perAddressEveryS: 600,
  /** Submissions per unit from everyone: burst, then one per `perUnitEveryS`. */
  perUnitBurst: 60,
  perUnitEveryS: 60,
  /** Ratings per address. */
  ratingBurst: 30,
  ratingEveryS: 10,
  /** Tracked addresses/units (oldest forgotten first). */
  maxKeys: 100_000,
};
export type FeedbackOptions = Partial<typeof FEEDBACK_DEFAULTS>;

/** Token buckets per key, bounded. */
class KeyedBuckets {
  readonly #m = new Map<string, TokenBucket>();
  constructor(
    private readonly burst: number,
    private readonly everyS: number,
    private readonly maxKeys: number,
  ) {}
  take(key: string, now: number): boolean {
    let b = this.#m.get(key);
    if (!b) {
      b = new TokenBucket({ burst: this.burst, ratePerSecond: 1 / this.everyS }, now);
      this.#m.set(key, b);
      if (this.#m.size > this.maxKeys) {
        const first = this.#m.keys().next().value;
        if (first !== undefined) this.#m.delete(first);
      }
    }
    return b.take(now);
  }
  retryAfterS(): number {
    return Math.ceil(this.everyS);
  }
}

interface StaffActor {
  id: string;
  username: string;
  role: import('../../domain/model.js').UserRole;
  scope: readonly string[];
  ip?: string;
}

export interface FeedbackDeps {
  store: Store;
  blobs: BlobStore;
  photos: PhotoIntake;
  challenges: ChallengeIssuer;
  content?: ContentService;
  publisher?: Publisher;
  webhooks?: WebhookService;
  /** Keys the sender hash (never stored in clear). */
  secret: Buffer;
  logger: Logger;
  now: () => number;
}

export type FeedbackEvent = { type: 'feedback.new' | 'feedback.updated'; feedback: FeedbackRecord };

export class FeedbackService {
  readonly #d: FeedbackDeps;
  readonly #o: typeof FEEDBACK_DEFAULTS;
  readonly #perAddress: KeyedBuckets;
  readonly #perUnit: KeyedBuckets;
  readonly #ratings: KeyedBuckets;
  readonly #listeners = new Set<(e: FeedbackEvent) => void>();

  constructor(d: FeedbackDeps, opts: FeedbackOptions = {}) {
    this.#d = { ...d, logger: d.logger.child({ module: 'feedback' }) };
    this.#o = withDefaults(FEEDBACK_DEFAULTS, opts);
    this.#perAddress = new KeyedBuckets(this.#o.perAddressBurst, this.#o.perAddressEveryS, this.#o.maxKeys);
    this.#perUnit = new KeyedBuckets(this.#o.perUnitBurst, this.#o.perUnitEveryS, this.#o.maxKeys);
    this.#ratings = new KeyedBuckets(this.#o.ratingBurst, this.#o.ratingEveryS, this.#o.maxKeys);
  }

  on(fn: (e: FeedbackEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: FeedbackEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'feedback listener failed');
      }
    }
  }

  #iso(ms = this.#d.now()): string {
    return new Date(ms).toISOString();
  }

  get maxPhotoBytes(): number {
    return this.#d.photos.maxBytes;
  }

  sender(ip: string): string {
    return createHmac('sha256', this.#d.secret).update(ip).digest('hex').slice(0, 24);
  }

  challenge(unit: string): string {
    return this.#d.challenges.issue(unit);
  }

  /** Charges the address and the unit before any work; FEEDBACK_RATE_LIMITED (429) when over. */
  #charge(unit: string, ip: string): void {
    const now = this.#d.now();
    if (!this.#perAddress.take(`a|${this.sender(ip)}`, now))
      throw new LoaError('FEEDBACK_RATE_LIMITED', 'Bạn đã gửi nhiều phản ánh, hãy thử lại sau ít phút', {
        details: { retryAfterSeconds: this.#perAddress.retryAfterS(), scope: 'address' },
      });
    if (!this.#perUnit.take(`u|${unit}`, now))
      throw new LoaError(
        'FEEDBACK_RATE_LIMITED',
        'Xã đang nhận quá nhiều phản ánh, hãy thử lại sau ít phút',
        {
          details: { retryAfterSeconds: this.#perUnit.retryAfterS(), scope: 'unit' },
        },
      );
  }

  async submit(
    unit: string,
    input: FeedbackInput,
    pow: { token: string; nonce: string },
    ip: string,
    photo?: Buffer,
  ): Promise<FeedbackRecord> {
    this.#d.challenges.redeem(unit, pow.token, pow.nonce);
    this.#charge(unit, ip);
    const now = this.#d.now();
    const rec: FeedbackRecord = {
      id: `fb-${randomBytes(8).toString('hex')}`,
      unit,
      topic: input.topic,
      text: input.text,
      status: 'new',
      createdAt: this.#iso(now),
      dueAt: this.#iso(now + this.#o.answerDays * 86_400_000),
      sender: this.sender(ip),
      updatedAt: this.#iso(now),
    };
    if (input.contact) rec.contact = input.contact;
    if (photo && photo.length > 0) {
      const temps: string[] = [];
      try {
        const jpeg = await this.#d.photos.reencode(photo, (s) => {
          const p = this.#d.blobs.tempPath(s);
          temps.push(p);
          return p;
        });
        const path = this.#d.blobs.tempPath('.jpg');
        temps.push(path);
        const { writeFile } = await import('node:fs/promises');
        await writeFile(path, jpeg, { mode: 0o600 });
        const stored = await this.#d.blobs.importFile(path);
        rec.photo = { sha256: stored.sha256, size: stored.size, mediaType: 'image/jpeg' };
      } finally {
        for (const p of temps) await this.#d.blobs.removeTemp(p);
      }
    }
    await this.#d.store.feedback.insert(rec);
    this.#emit({ type: 'feedback.new', feedback: rec });
    return rec;
  }

  /** Feedback in the viewer's scope, newest first. */
  async list(
    viewer: { scope: readonly string[] },
    f: { unit?: string; status?: FeedbackStatus; topic?: string } = {},
  ): Promise<FeedbackRecord[]> {
    const list = await this.#d.store.feedback.list(
      (r) =>
        inScope(viewer, r.unit) &&
        (!f.unit || unitCovers(f.unit, r.unit)) &&
        (!f.status || r.status === f.status) &&
        (!f.topic || r.topic === f.topic),
    );
    return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async get(viewer: { scope: readonly string[] }, id: string): Promise<FeedbackRecord> {
    const r = /^fb-[0-9a-f]{16}$/.test(id) ? await this.#d.store.feedback.get(id) : undefined;
    if (!r || !inScope(viewer, r.unit)) throw new LoaError('FEEDBACK_NOT_FOUND', 'Không tìm thấy phản ánh');
    return r;
  }

  async #change(
    actor: StaffActor,
    id: string,
    to: FeedbackStatus,
    patch: Partial<FeedbackRecord>,
    action: string,
    details: Record<string, unknown> = {},
  ): Promise<FeedbackRecord> {
    const r = await this.get(actor, id);
    requireScope(actor, r.unit);
    checkTransition(r.status, to);
    const next = await this.#d.store.feedback.update(id, { ...patch, status: to, updatedAt: this.#iso() });
    await this.#d.store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action,
      target: { type: 'feedback', id },
      unit: r.unit,
      ...(actor.ip ? { ip: actor.ip } : {}),
      details: { from: r.status, to, ...details },
    });
    this.#emit({ type: 'feedback.updated', feedback: next });
    return next;
  }

  async assign(actor: StaffActor, id: string, to: string, dueAt?: string): Promise<FeedbackRecord> {
    const r = await this.get(actor, id);
    const who = await this.#d.store.users.get(to);
    if (!who || who.disabled || !inScope(who, r.unit))
      throw new LoaError('FEEDBACK_ASSIGNEE', 'Người được giao không phụ trách đơn vị này');
    return this.#change(
      actor,
      id,
      'assigned',
      { assignedTo: to, assignedAt: this.#iso(), ...(dueAt ? { dueAt } : {}) },
      'feedback.assign',
      { assignedTo: who.username },
    );
  }

  async setDue(actor: StaffActor, id: string, dueAt: string): Promise<FeedbackRecord> {
    const r = await this.get(actor, id);
    return this.#change(actor, id, r.status, { dueAt }, 'feedback.due', { dueAt });
  }

  async answer(
    actor: StaffActor,
    id: string,
    a: { text: string; publish: boolean; notify: boolean },
  ): Promise<FeedbackRecord> {
    const r = await this.get(actor, id);
    let delivery: FeedbackRecord['delivery'];
    if (a.notify && r.contact) {
      const hooks = this.#d.webhooks?.subscribed('feedback.answered', [r.unit]) ?? 0;
      delivery = hooks > 0 ? 'sent' : 'pending';
    }
    const next = await this.#change(
      actor,
      id,
      'answered',
      {
        answer: a.text,
        answeredBy: actor.id,
        answeredAt: this.#iso(),
        answerPublic: a.publish,
        ...(delivery ? { delivery } : {}),
      },
      'feedback.answer',
      { publish: a.publish, delivery },
    );
    if (delivery === 'sent')
      this.#d.webhooks?.emit(
        'feedback.answered',
        { id: r.id, unit: r.unit, topic: r.topic, contact: r.contact, question: r.text, answer: a.text },
        [r.unit],
      );
    return next;
  }

  async close(actor: StaffActor, id: string): Promise<FeedbackRecord> {
    return this.#change(actor, id, 'closed', { closedAt: this.#iso() }, 'feedback.close');
  }

  /**
   * The answer as a text bulletin (public, category "phan-hoi") and a programme draft for the unit
   * that carries it, for the editor to schedule and send for approval.
   */
  async toBulletin(actor: StaffActor, id: string): Promise<{ contentId: string; bundleId: string }> {
    const r = await this.get(actor, id);
    requireScope(actor, r.unit);
    if (!r.answer) throw new LoaError('FEEDBACK_NO_ANSWER', 'Phản ánh chưa có câu trả lời');
    const { content, publisher } = this.#d;
    if (!content || !publisher) throw new LoaError('FEEDBACK_NO_CONTENT', 'Máy chủ không chạy phần nội dung');
    const text = `Trả lời phản ánh của người dân: ${r.text}\n\n${r.answer}`.slice(0, 20_000);
    const c = await content.createText(
      {
        title: 'Trả lời phản ánh của người dân',
        unit: r.unit,
        lang: 'vi',
        category: 'phan-hoi',
        text,
        public: true,
      },
      actor,
      actor.ip,
    );
    const b = await publisher.createDraft(
      {
        channel: `phan-hoi-${r.unit.replace(/\//g, '-')}`,
        description: `Trả lời phản ánh ${r.id}`,
        items: [{ content: c.id, priority: 'normal' }],
        targets: [{ unit: r.unit }],
      },
      actor,
    );
    await this.#d.store.feedback.update(id, { bundleId: b.id, updatedAt: this.#iso() });
    return { contentId: c.id, bundleId: b.id };
  }

  /** Answers published on the unit's page, newest first. */
  async publicAnswers(unit: string, limit = 20): Promise<FeedbackRecord[]> {
    const list = await this.#d.store.feedback.list(
      (r) => r.unit === unit && r.answerPublic === true && !!r.answer,
    );
    return list.sort((a, b) => (b.answeredAt ?? '').localeCompare(a.answeredAt ?? '')).slice(0, limit);
  }

  async rate(
    unit: string,
    contentId: string,
    v: { stars?: number; choice?: number },
    ip: string,
  ): Promise<RatingRecord> {
    if (!this.#ratings.take(`r|${this.sender(ip)}`, this.#d.now()))
      throw new LoaError('FEEDBACK_RATE_LIMITED', 'Bạn đã đánh giá nhiều lần, hãy thử lại sau', {
        details: { retryAfterSeconds: this.#ratings.retryAfterS(), scope: 'address' },
      });
    const sender = this.sender(ip);
    // one vote per sender and bulletin: a second one replaces the first
    const id = `rt-${createHmac('sha256', this.#d.secret).update(`${sender}|${contentId}`).digest('hex').slice(0, 16)}`;
    const rec: RatingRecord = { id, unit, contentId, sender, createdAt: this.#iso() };
    if (v.stars !== undefined) rec.stars = v.stars;
    if (v.choice !== undefined) rec.choice = v.choice;
    return this.#d.store.ratings.put(rec);
  }

  /** Ratings and survey answers of a bulletin: stars average and count, votes per option. */
  async ratingSummary(
    contentId: string,
  ): Promise<{ count: number; average: number | null; choices: number[] }> {
    const list = await this.#d.store.ratings.list((r) => r.contentId === contentId);
    const stars = list.flatMap((r) => (r.stars ? [r.stars] : []));
    const choices: number[] = [];
    for (const r of list) if (r.choice !== undefined) choices[r.choice] = (choices[r.choice] ?? 0) + 1;
    return {
      count: stars.length,
      average: stars.length ? Math.round((stars.reduce((a, b) => a + b, 0) / stars.length) * 10) / 10 : null,
      choices: Array.from(choices, (x) => x ?? 0),
    };
  }

  /**
   * Counts of feedback in the given unit subtrees, optionally since an instant (by submission):
   * by topic, status and unit, overdue, and time to answer. For the dashboard and reports.
   */
  async counts(units: readonly string[], since?: string): Promise<FeedbackCounts> {
    const list = await this.#d.store.feedback.list(
      (r) => units.some((u) => unitCovers(u, r.unit)) && (!since || r.createdAt >= since),
    );
    return countFeedback(list, this.#d.now());
  }
}
