/**
 * CAP 1.2 intake: parses an alert strictly, decides with the province's tables (domain/cap) what it
 * does, and acts through the existing emergency service (no second emergency path): a draft waits
 * for a person (`send`), an allowed sender's alert is sent at once, a Cancel recalls what was sent.
 * Records and the province's table live in `<dataDir>/cap/` (alerts.json, config.json), written
 * atomically; operations are serialised so two pushes of one alert cannot both act.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoaError, LoaError } from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { type CapRecord, decideIntake, recordOf } from '../domain/cap/intake.js';
import { type CapConfig, DEFAULT_CAP_CONFIG, parseCapConfig, type UnitInfo } from '../domain/cap/mapping.js';
import { parseCap } from '../domain/cap/parse.js';
import { type EmergencyRequest, EmergencyRequestSchema } from '../domain/emergency.js';
import type { AuditInput } from '../domain/model.js';
import { requireScope } from '../domain/rbac.js';

export interface CapActor {
  id: string;
  username: string;
  scope: readonly string[];
  ip?: string;
  via?: string;
}

/** Stops what an emergency of a unit subtree is playing (a signed `stop` command, as the caller). */
export type StopUnit = (unit: string) => Promise<void>;
/** Withdraws a sent emergency with a signed recall (stations drop it, also those offline now). */
export type RecallEmergency = (bundleId: string, reason: string) => Promise<void>;

export interface CapServiceDeps {
  dir: string;
  units: () => Promise<UnitInfo[]>;
  emergency: { send(req: EmergencyRequest, actor: CapActor): Promise<{ bundle: { id: string } }> };
  audit: (entry: AuditInput) => Promise<unknown>;
  logger: Logger;
  now: () => number;
  /** Records kept (newest); default 5000. */
  maxRecords?: number;
}

export type CapOutcome = 'draft' | 'sent' | 'cancelled' | 'duplicate' | 'ignored';

export interface CapResult {
  outcome: CapOutcome;
  record: CapRecord;
  /** Records an Update superseded or a Cancel cancelled. */
  closed: CapRecord[];
}

export type CapEvent =
  | { type: 'cap.received'; outcome: CapOutcome; record: CapRecord }
  | { type: 'cap.sent' | 'cap.cancelled'; record: CapRecord };

export class CapService {
  readonly #d: CapServiceDeps;
  #records: CapRecord[] = [];
  #byKey = new Map<string, CapRecord>();
  #config: CapConfig = parseCapConfig(DEFAULT_CAP_CONFIG);
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<(e: CapEvent) => void>();

  constructor(d: CapServiceDeps) {
    this.#d = { ...d, logger: d.logger.child({ module: 'cap' }) };
  }

  get #alertsFile(): string {
    return join(this.#d.dir, 'alerts.json');
  }
  get #configFile(): string {
    return join(this.#d.dir, 'config.json');
  }

  async start(): Promise<void> {
    await mkdir(this.#d.dir, { recursive: true });
    const cfg = await readJson(this.#configFile);
    if (cfg !== undefined) this.#config = parseCapConfig(cfg);
    const stored = (await readJson(this.#alertsFile)) as { records?: CapRecord[] } | undefined;
    this.#records = stored?.records ?? [];
    this.#byKey = new Map(this.#records.map((r) => [r.key, r] as const));
  }

  on(fn: (e: CapEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: CapEvent): void {
    for (const fn of this.#listeners)
      try {
        fn(e);
      } catch (err) {
        this.#d.logger.warn({ err }, 'cap listener failed');
      }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  config(): CapConfig {
    return this.#config;
  }

  setConfig(input: unknown, actor: CapActor): Promise<CapConfig> {
    return this.#serial(async () => {
      const cfg = parseCapConfig(input);
      await writeJsonAtomic(this.#configFile, cfg);
      this.#config = cfg;
      await this.#audit(actor, 'cap.config', undefined, {});
      return cfg;
    });
  }

  list(limit = 200): CapRecord[] {
    return this.#records.slice(-limit).reverse();
  }

  get(id: string): CapRecord {
    const r = this.#records.find((x) => x.id === id);
    if (!r) throw new LoaError('CAP_ALERT_NOT_FOUND', `Không tìm thấy cảnh báo CAP "${id}"`);
    return r;
  }

  async #save(): Promise<void> {
    const max = this.#d.maxRecords ?? 5000;
    if (this.#records.length > max) {
      for (const r of this.#records.splice(0, this.#records.length - max)) this.#byKey.delete(r.key);
    }
    await writeJsonAtomic(this.#alertsFile, { records: this.#records });
  }

  #audit(actor: CapActor, action: string, rec: CapRecord | undefined, details: Record<string, unknown>) {
    return this.#d.audit({
      actor: { type: actor.via === 'token' ? 'token' : 'user', id: actor.id, name: actor.username },
      action,
      ...(rec ? { target: { type: 'cap', id: rec.id } } : {}),
      ...(actor.ip ? { ip: actor.ip } : {}),
      ...(rec?.units[0] ? { unit: rec.units[0] } : {}),
      details: rec
        ? { key: rec.key, msgType: rec.msgType, state: rec.state, units: rec.units, ...details }
        : details,
    });
  }

  /** Takes a CAP 1.2 document. Nothing is stored or sent when it is refused. */
  intake(xml: string, actor: CapActor, stopUnit: StopUnit, recall?: RecallEmergency): Promise<CapResult> {
    const alert = parseCap(xml);
    return this.#serial(async () => {
      const now = this.#d.now();
      const at = new Date(now).toISOString();
      const decision = decideIntake(
        alert,
        (k) => this.#byKey.get(k),
        this.#config,
        await this.#d.units(),
        now,
      );
      if (decision.kind === 'duplicate') {
        this.#emit({ type: 'cap.received', outcome: 'duplicate', record: decision.record });
        return { outcome: 'duplicate', record: decision.record, closed: [] };
      }
      const id = `cap-${randomBytes(8).toString('hex')}`;
      let outcome: CapOutcome;
      let rec: CapRecord;
      const closed: CapRecord[] = [];
      if (decision.kind === 'ignore') {
        rec = { ...recordOf(alert, id, actor.username, at), state: 'ignored', note: decision.reason };
        outcome = 'ignored';
      } else if (decision.kind === 'cancel') {
        rec = { ...recordOf(alert, id, actor.username, at), state: 'cancelled', cancelledAt: at };
        const sent = decision.targets.filter((t) => t.state === 'sent');
        for (const t of sent) for (const u of t.units) requireScope(actor, u);
        // stop first: a refused stop leaves every record as it was
        // a sent emergency is recalled (signed, re-sent to stations that return); the stop
        // command remains for a record whose emergencies are not known
        for (const t of sent) {
          if (recall && t.emergencies.length > 0)
            for (const b of t.emergencies) await recall(b, `Huỷ theo cảnh báo CAP ${alert.identifier}`);
          else for (const u of t.units) await stopUnit(u);
        }
        for (const t of decision.targets) {
          if (t.state === 'sent') t.stopped = [...t.units];
          t.state = 'cancelled';
          t.cancelledAt = at;
          t.closedBy = rec.key;
          closed.push(t);
        }
        rec.units = [...new Set(decision.targets.flatMap((t) => t.units))];
        outcome = 'cancelled';
      } else {
        const { plan, mode, supersedes } = decision;
        for (const u of plan.units) requireScope(actor, u);
        rec = { ...recordOf(alert, id, actor.username, at, plan), state: 'draft' };
        if (mode === 'send') {
          try {
            await this.#sendRecord(rec, actor);
          } catch (err) {
            if (!isLoaError(err)) throw err;
            rec.sendError = { code: err.code, message: err.message };
            rec.note = 'chính sách cho phép phát tự động nhưng gửi không được: chờ người duyệt';
            this.#d.logger.warn(
              { code: err.code, key: rec.key },
              'automatic CAP send failed; kept as a draft',
            );
          }
        }
        for (const s of supersedes) {
          s.state = 'superseded';
          s.closedBy = rec.key;
          closed.push(s);
        }
        outcome = rec.state === 'sent' ? 'sent' : 'draft';
      }
      this.#records.push(rec);
      this.#byKey.set(rec.key, rec);
      await this.#save();
      await this.#audit(actor, 'cap.receive', rec, { outcome, closed: closed.map((c) => c.key) });
      this.#d.logger.info(
        { key: rec.key, outcome, units: rec.units, priority: rec.priority },
        'CAP alert received',
      );
      this.#emit({ type: 'cap.received', outcome, record: rec });
      for (const c of closed) if (c.state === 'cancelled') this.#emit({ type: 'cap.cancelled', record: c });
      return { outcome, record: rec, closed };
    });
  }

  async #sendRecord(rec: CapRecord, actor: CapActor): Promise<void> {
    const cfg = this.#config.emergency;
    for (const unit of rec.units) {
      const req = EmergencyRequestSchema.parse({
        unit,
        title: rec.title ?? rec.event ?? 'Cảnh báo',
        text: rec.text ?? rec.title ?? rec.event,
        lang: rec.lang ?? 'vi',
        repeat: cfg.repeat,
        gapSeconds: cfg.gapSeconds,
        volume: cfg.volume,
        validMinutes: rec.validMinutes ?? 120,
      });
      const v = await this.#d.emergency.send(req, actor);
      rec.emergencies.push(v.bundle.id);
    }
    rec.state = 'sent';
    rec.sentAt = new Date(this.#d.now()).toISOString();
    rec.sentBy = actor.username;
    delete rec.sendError;
  }

  /** A person sends a draft: through the emergency service, with their own key. */
  send(id: string, actor: CapActor): Promise<CapRecord> {
    return this.#serial(async () => {
      const rec = this.get(id);
      if (rec.state !== 'draft')
        throw new LoaError(
          'CAP_STATE_CONFLICT',
          `Cảnh báo CAP đang ở trạng thái "${rec.state}", không gửi được`,
        );
      for (const u of rec.units) requireScope(actor, u);
      try {
        await this.#sendRecord(rec, actor);
      } finally {
        await this.#save();
      }
      await this.#audit(actor, 'cap.send', rec, { emergencies: rec.emergencies });
      this.#emit({ type: 'cap.sent', record: rec });
      return rec;
    });
  }

  /** A person drops a draft (nothing was sent). */
  discard(id: string, actor: CapActor): Promise<CapRecord> {
    return this.#serial(async () => {
      const rec = this.get(id);
      if (rec.state !== 'draft')
        throw new LoaError(
          'CAP_STATE_CONFLICT',
          `Cảnh báo CAP đang ở trạng thái "${rec.state}", không hủy được`,
        );
      for (const u of rec.units) requireScope(actor, u);
      rec.state = 'cancelled';
      rec.cancelledAt = new Date(this.#d.now()).toISOString();
      await this.#save();
      await this.#audit(actor, 'cap.discard', rec, {});
      this.#emit({ type: 'cap.cancelled', record: rec });
      return rec;
    });
  }
}

async function readJson(path: string): Promise<unknown> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(raw);
  } catch (cause) {
    throw new LoaError('CAP_STORE_CORRUPT', `Tệp ${path} không phải JSON hợp lệ`, { cause });
  }
}
