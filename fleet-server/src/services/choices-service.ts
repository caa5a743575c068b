/**
 * Programme choices per unit (protocol/src/choices.ts): a commune's operator (or the province)
 * says which upper-level normal content the unit's stations do not carry and sets the unit's
 * quiet hours; the server signs the document with their server-held key (`content` role, scope
 * over the unit). Where the policy wants more `content` signatures than one, the document waits
 * (pending) until another person asks for the same choices. Once it verifies it is published
 * (QoS 1) on the unit's `choices` topic, and re-sent to each station of the unit that reconnects.
 * Stations apply it on top of the bundles as signed (they are never re-signed per commune).
 */
import {
  type Choices,
  ChoicesNotifySchema,
  deviceTopic,
  isLoaError,
  LoaError,
  thresholdFor,
  unitAncestry,
  unitCovers,
  unitTopic,
  verifyChoices,
} from '@loa/protocol';
import type { Logger } from 'pino';
import type { BrokerApi } from '../broker/types.js';
import { type ChoicesInput, checkChoicesInput, choicesBody, sameChoices } from '../domain/choices.js';
import type { BundleRecord, ChoicesRecord } from '../domain/model.js';
import {
  type ProgrammeTimeline,
  programmeTimeline,
  reachesUnit,
  type TimelineStation,
} from '../domain/programme-timeline.js';
import { isDay, type ProgrammeWeek, programmeWeek } from '../domain/programme-week.js';
import { can, type Principal, requirePermission, requireScope } from '../domain/rbac.js';
import type { Store } from '../store/ports.js';
import type { Signer } from './signer.js';
import type { TrustService } from './trust-service.js';

export interface ChoicesView {
  unit: string;
  /** What the unit's stations apply (absent: nothing chosen yet). */
  current?: Pick<Choices, 'version' | 'optOut' | 'quietHours' | 'issued'> & { publishedBy: string[] };
  /** Waiting for more signatures (two-person rule). */
  pending?: Pick<Choices, 'version' | 'optOut' | 'quietHours'> & {
    signatures: number;
    needed: number;
    requestedBy: string[];
  };
}

export interface ChoicesDeps {
  store: Store;
  broker: BrokerApi;
  signer: Signer;
  trust: TrustService;
  logger: Logger;
  now: () => number;
}

type Actor = Principal & { ip?: string };

export class ChoicesService {
  readonly #d: ChoicesDeps;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(d: ChoicesDeps) {
    this.#d = { ...d, logger: d.logger.child({ module: 'choices' }) };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #unit(unit: string): Promise<void> {
    if (!(await this.#d.store.units.get(unit)))
      throw new LoaError('UNIT_NOT_FOUND', `Không có đơn vị ${unit.slice(0, 64)}`);
  }

  async view(unit: string, actor: Pick<Principal, 'scope'>): Promise<ChoicesView> {
    requireScope(actor, unit);
    await this.#unit(unit);
    return this.#view(unit, await this.#d.store.choices.get(unit));
  }

  #view(unit: string, rec: ChoicesRecord | undefined): ChoicesView {
    const out: ChoicesView = { unit };
    const c = rec?.current;
    if (c)
      out.current = {
        version: c.version,
        optOut: c.optOut,
        quietHours: c.quietHours,
        issued: c.issued,
        publishedBy: rec?.publishedBy ?? [],
      };
    const p = rec?.pending;
    if (p) {
      const trust = this.#d.trust.current();
      out.pending = {
        version: p.document.version,
        optOut: p.document.optOut,
        quietHours: p.document.quietHours,
        signatures: p.document.signatures.length,
        needed: trust ? thresholdFor(trust, 'content') : 1,
        requestedBy: p.requestedBy,
      };
    }
    return out;
  }

  /** The published choices of a unit and of each unit above it, top first (what its stations apply). */
  async applying(unit: string): Promise<Choices[]> {
    const out: Choices[] = [];
    for (const u of unitAncestry(unit)) {
      const c = (await this.#d.store.choices.get(u))?.current;
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * What the unit's stations will play on a local day (YYYY-MM-DD): the newest published bundle of
   * each channel that reaches the unit, with the choices of the unit and the units above applied.
   * Given a station of the unit (its device id), the day of that station alone: the bundles that
   * target it, on its output (loudspeakers or screen), with the choices of its own unit.
   */
  async timeline(
    unit: string,
    day: string,
    actor: Pick<Principal, 'scope'>,
    stationId?: string,
  ): Promise<ProgrammeTimeline> {
    if (!isDay(day))
      throw new LoaError('DAY_INVALID', `Ngày "${day.slice(0, 20)}" không hợp lệ (cần YYYY-MM-DD)`);
    const plan = await this.#dayPlan(unit, actor, stationId);
    return plan(day);
  }

  /**
   * The week (Monday to Sunday, Vietnam time) holding `week` (any day of it; absent: this week),
   * each day the same day plan as `timeline`, counted per output.
   */
  async week(
    unit: string,
    week: string | undefined,
    actor: Pick<Principal, 'scope'>,
    stationId?: string,
  ): Promise<ProgrammeWeek> {
    if (week !== undefined && !isDay(week))
      throw new LoaError('DAY_INVALID', `Ngày "${week.slice(0, 20)}" không hợp lệ (cần YYYY-MM-DD)`);
    const plan = await this.#dayPlan(unit, actor, stationId);
    return programmeWeek({ unit, ...(week ? { week } : {}), clock: { now: this.#d.now }, dayPlan: plan });
  }

  /** The day computation for a unit (or one station of it), on the bundles and choices as they are now. */
  async #dayPlan(
    unit: string,
    actor: Pick<Principal, 'scope'>,
    stationId?: string,
  ): Promise<(day: string) => ProgrammeTimeline> {
    requireScope(actor, unit);
    await this.#unit(unit);
    let station: TimelineStation | undefined;
    let at = unit;
    if (stationId !== undefined) {
      const d = await this.#d.store.devices.get(stationId);
      if (!d || !unitCovers(unit, d.unit) || d.status === 'decommissioned')
        throw new LoaError(
          'DEVICE_NOT_FOUND',
          `Không có thiết bị ${stationId.slice(0, 64)} trong đơn vị ${unit.slice(0, 64)}`,
        );
      station = { id: d.id, kind: d.kind, groups: d.groups };
      at = d.unit;
    }
    const newest = new Map<string, BundleRecord>();
    for (const b of await this.#d.store.bundles.list(
      (x) => x.state === 'published' && x.emergency !== true && reachesUnit(x.manifest, at),
    )) {
      const cur = newest.get(b.channel);
      if (!cur || b.version > cur.version) newest.set(b.channel, b);
    }
    const manifests = [...newest.values()].map((b) => b.manifest);
    const choices = await this.applying(at);
    return (day) => programmeTimeline({ unit: at, day, manifests, choices, ...(station ? { station } : {}) });
  }

  /** Sets (or co-signs) a unit's choices. */
  set(unit: string, input: ChoicesInput, actor: Actor): Promise<ChoicesView> {
    return this.#serial(() => this.#set(unit, input, actor));
  }

  async #set(unit: string, input: ChoicesInput, actor: Actor): Promise<ChoicesView> {
    const { store, signer, trust } = this.#d;
    requireScope(actor, unit);
    await this.#unit(unit);
    checkChoicesInput(input);
    const rec = await store.choices.get(unit);
    const pending = rec?.pending && sameChoices(rec.pending.document, input) ? rec.pending : undefined;
    // co-signing choices another person asked for, like co-signing a programme: an editor may too
    if (!(pending && (can(actor.role, 'bundle.compose') || can(actor.role, 'bundle.approve'))))
      requirePermission(actor, 'bundle.publish');
    const policy = trust.require();
    const key = await signer.active(actor.id);
    if (!key) throw new LoaError('SIGNING_KEY_NOT_FOUND', 'Bạn chưa có khóa ký trên máy chủ');
    const delegated = policy.keys.find((k) => k.keyid === key.keyid);
    if (!delegated?.roles.includes('content'))
      throw new LoaError('ROLE_NOT_AUTHORISED', 'Khóa của bạn chưa được tỉnh ủy quyền vai trò content');
    const now = new Date(this.#d.now());
    const at = now.toISOString();
    const version =
      Math.max(rec?.current?.version ?? 0, rec?.pending?.document.version ?? 0) + (pending ? 0 : 1);
    const body = pending
      ? (({ signatures: _s, ...b }) => b)(pending.document)
      : choicesBody(unit, input, version, now);
    const kept = (pending?.document.signatures ?? []).filter((s) => s.keyid !== key.keyid);
    const { doc } = await signer.sign(actor.id, { ...body, signatures: kept });
    const document = doc as Choices;
    const requestedBy = [...new Set([...(pending?.requestedBy ?? []), actor.id])];
    let complete = true;
    try {
      verifyChoices(document, { trust: policy, now });
    } catch (e) {
      if (!isLoaError(e) || e.code !== 'THRESHOLD_UNMET') throw e;
      complete = false;
    }
    const { pending: _p, ...rest } = rec ?? { id: unit, unit, updatedAt: at };
    const next: ChoicesRecord = complete
      ? {
          ...rest,
          id: unit,
          unit,
          current: document,
          publishedAt: at,
          publishedBy: requestedBy,
          updatedAt: at,
        }
      : { ...rest, id: unit, unit, pending: { document, requestedBy, at }, updatedAt: at };
    await store.choices.put(next);
    await store.audit.append({
      actor: { type: 'user', id: actor.id, name: actor.username },
      action: complete ? 'choices.publish' : 'choices.sign',
      target: { type: 'unit', id: unit },
      unit,
      ...(actor.ip ? { ip: actor.ip } : {}),
      details: {
        version: document.version,
        optOut: document.optOut.length,
        quietHours: document.quietHours.map((q) => `${q.start}-${q.end}`).join(', '),
        signatures: document.signatures.length,
      },
    });
    if (complete) {
      await this.#d.broker.publish(unitTopic(unit, 'choices'), this.#message(document), { qos: 1 });
      this.#d.logger.info({ unit, version: document.version }, 'programme choices published');
    }
    return this.#view(unit, next);
  }

  #message(c: Choices) {
    return ChoicesNotifySchema.parse({ choices: c, serverTime: new Date(this.#d.now()).toISOString() });
  }

  /**
   * A station came (back) online: re-send it the published choices of its unit and of the units
   * above it (it may have been offline, or lost its copy); a station that holds them ignores them.
   */
  async catchUp(deviceId: string): Promise<number> {
    const d = await this.#d.store.devices.get(deviceId);
    if (d?.status !== 'active') return 0;
    const docs = await this.applying(d.unit);
    for (const c of docs)
      await this.#d.broker.publish(deviceTopic(deviceId, 'choices'), this.#message(c), { qos: 1 });
    return docs.length;
  }
}
