/**
 * Device identity and enrolment. On first start the agent generates its Ed25519 key (data dir
 * 0700, key 0600). With a fleet URL and a one-time token (config or provisioning file) it posts
 * {token, publicKey, hardware} to POST /api/v1/enrol, stores the answer (MQTT credentials,
 * endpoints) and the trust policy, then forgets the token (the provisioning file is rewritten
 * without it). Failures are retried with backoff in the background; a station that is not
 * enrolled still plays what it has.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  type Clock,
  generateKeyPair,
  IdSchema,
  LoaError,
  privateKeyFromPem,
  privateKeyToPem,
  rawPublicKey,
  TrustPolicySchema,
  UnitPathSchema,
} from '@loa/protocol';
import { writeFileAtomic, writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Emitter } from '../../events.js';
import { type HttpFetch, type HttpResponse, httpFetch } from '../../http/client.js';
import { hashPassword } from '../../http/password.js';
import type { TrustStore } from '../content/trust-store.js';
import { readJsonFile } from '../system/data-dir.js';
import { forgetEnrolmentToken, type ProvisioningFacts, provisioningFacts } from '../system/provisioning.js';

export const CredentialsSchema = z.object({
  deviceId: IdSchema,
  unit: UnitPathSchema,
  status: z.enum(['active', 'pending']).default('active'),
  mqtt: z.object({
    url: z.string(),
    username: z.string(),
    password: z.string(),
    clientId: z.string().optional(),
  }),
  endpoints: z
    .object({ api: z.string(), blobs: z.string(), mqttWs: z.string().optional() })
    .partial()
    .default({}),
  fleetUrl: z.string(),
  enrolledAt: z.string(),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

const EnrolAnswerSchema = z.object({
  deviceId: IdSchema,
  unit: UnitPathSchema,
  status: z.enum(['active', 'pending']).default('active'),
  mqtt: z.object({
    url: z.string(),
    username: z.string(),
    password: z.string(),
    clientId: z.string().optional(),
  }),
  trust: TrustPolicySchema.nullable().optional(),
  endpoints: z
    .object({ api: z.string(), blobs: z.string(), mqttWs: z.string().optional() })
    .partial()
    .default({}),
});

/** A provisioning file written on the SD card at imaging time (first boot). */
export const ProvisioningSchema = z.looseObject({
  fleetUrl: z.url().optional(),
  enrolmentToken: z.string().optional(),
  /** Plain password for the technician page: hashed and removed on first start. */
  technicianPassword: z.string().min(8).optional(),
  technicianPasswordHash: z.string().optional(),
  deviceName: z.string().max(200).optional(),
});
export type Provisioning = z.infer<typeof ProvisioningSchema>;

/** Loads the device key, creating it (0600) on first start. */
export async function loadOrCreateDeviceKey(path: string, logger: Logger): Promise<KeyObject> {
  try {
    return privateKeyFromPem(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new LoaError('DEVICE_KEY_INVALID', `Khoá thiết bị ${path} hỏng`, { cause: e });
  }
  const { privateKey } = generateKeyPair();
  await writeFileAtomic(path, privateKeyToPem(privateKey), 0o600);
  logger.info('device key generated');
  return privateKey;
}

/**
 * Reads the provisioning file; hashes a plain technician password and rewrites the file without
 * it. Returns the content (token included, if any).
 */
export async function readProvisioning(path: string): Promise<Provisioning | undefined> {
  const p = await readJsonFile(path, ProvisioningSchema);
  if (p?.technicianPassword) {
    const { technicianPassword, ...rest } = p;
    const next = { ...rest, technicianPasswordHash: await hashPassword(technicianPassword) };
    await writeJsonAtomic(path, next, 0o600);
    return next;
  }
  return p;
}

export interface EnrolmentOptions {
  credentialsFile: string;
  fleetUrl: string | undefined;
  /** From the config (the provisioning file's token wins). */
  token: string | undefined;
  provisioningFile: string | undefined;
  privateKey: KeyObject;
  hardware: () => Promise<Record<string, string | number | boolean | null>>;
  trust: TrustStore;
  clock: Clock;
  logger: Logger;
  fetch?: HttpFetch;
  preferredDeviceId?: string;
  name?: string;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class Enrolment extends Emitter<{ enrolled: Credentials }> {
  private creds: Credentials | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = true;
  private running: Promise<Credentials> | undefined;
  private readonly log: Logger;
  lastError: { code: string; message: string; at: string } | undefined;

  constructor(private readonly o: EnrolmentOptions) {
    super();
    this.log = o.logger.child({ module: 'enrolment' });
  }

  credentials(): Credentials | undefined {
    return this.creds;
  }

  /** Loads stored credentials; if none, starts enrolling in the background when it can. */
  async start(): Promise<void> {
    this.stopped = false;
    this.creds = await readJsonFile(this.o.credentialsFile, CredentialsSchema);
    if (this.creds) {
      // a power cut between storing the credentials and rewriting the file left the token there
      if (this.o.provisioningFile)
        await forgetEnrolmentToken(this.o.provisioningFile).then(
          (had) => had && this.log.info('enrolment token removed from the provisioning file'),
          (e: unknown) => this.log.error({ err: e }, 'could not remove the enrolment token'),
        );
      return;
    }
    const { url, token } = await this.tokenAndUrl();
    if (!url || !token) {
      this.log.warn('not enrolled and no enrolment token: playing what the station has');
      return;
    }
    this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Enrols now with the server address and token a technician gave on the station's page (the
   * dashboard's enrolment QR code, or typed). Refused (ENROL_ALREADY) once the station is enrolled:
   * a station never changes identity from its LAN page. A round trip already running (the
   * provisioning file's token) is waited for first.
   */
  async enrolWith(fleetUrl: string, token: string): Promise<Credentials> {
    await this.running?.catch(() => undefined);
    if (this.creds)
      throw new LoaError(
        'ENROL_ALREADY',
        `Trạm đã đăng ký (mã trạm ${this.creds.deviceId}, đơn vị ${this.creds.unit})`,
      );
    clearTimeout(this.timer);
    this.failures = 0;
    try {
      const c = await this.enrol({ url: fleetUrl, token });
      this.lastError = undefined;
      return c;
    } catch (e) {
      this.noteError(e);
      throw e;
    }
  }

  private noteError(e: unknown): string {
    const code = e instanceof LoaError ? e.code : 'ENROL_FAILED';
    this.lastError = {
      code,
      message: (e as Error).message,
      at: new Date(this.o.clock.now()).toISOString(),
    };
    return code;
  }

  private attempt(): void {
    if (this.creds) return;
    this.enrol().catch((e: unknown) => {
      const code = this.noteError(e);
      if (this.stopped || this.creds) return;
      if (code.startsWith('ENROL_TOKEN_') || code === 'DEVICE_KEY_IN_USE') {
        this.log.error({ code }, 'enrolment refused; a technician must provide a new token');
        return;
      }
      this.failures++;
      const min = this.o.retryMinMs ?? 5000;
      const delay =
        Math.min(this.o.retryMaxMs ?? 15 * 60_000, min * 2 ** Math.min(this.failures, 16)) *
        (0.5 + Math.random());
      this.log.warn({ code, delayMs: Math.round(delay) }, 'enrolment failed; retrying');
      this.timer = setTimeout(() => this.attempt(), delay);
    });
  }

  private async tokenAndUrl(): Promise<{ url?: string; token?: string; facts?: ProvisioningFacts }> {
    if (this.o.provisioningFile) await readProvisioning(this.o.provisioningFile); // hashes a plain password
    const facts = this.o.provisioningFile ? await provisioningFacts(this.o.provisioningFile) : undefined;
    const url = facts?.fleetUrl ?? this.o.fleetUrl;
    const token = facts?.token ?? this.o.token;
    return { ...(url ? { url } : {}), ...(token ? { token } : {}), ...(facts ? { facts } : {}) };
  }

  /**
   * One enrolment round trip, with the provisioning file's (or config's) server and token unless
   * `given`. Errors: ENROL_* from the server, ENROL_UNREACHABLE, ENROL_BAD_ANSWER.
   */
  enrol(given?: { url: string; token: string }): Promise<Credentials> {
    const run = this.enrolOnce(given);
    this.running = run;
    return run.finally(() => {
      if (this.running === run) this.running = undefined;
    });
  }

  private async enrolOnce(given?: { url: string; token: string }): Promise<Credentials> {
    const found = await this.tokenAndUrl();
    const facts = found.facts;
    const url = given?.url ?? found.url;
    const token = given?.token ?? found.token;
    if (!url || !token) throw new LoaError('ENROL_NO_TOKEN', 'Không có địa chỉ máy chủ hoặc mã đăng ký');
    const endpoint = `${url.replace(/\/+$/, '')}/api/v1/enrol`;
    const body = {
      token,
      publicKey: rawPublicKey(this.o.privateKey).toString('base64'),
      hardware: { ...(await this.o.hardware()), ...facts?.hardware },
      ...((facts?.deviceId ?? this.o.preferredDeviceId)
        ? { deviceId: facts?.deviceId ?? this.o.preferredDeviceId }
        : {}),
      ...((facts?.name ?? this.o.name) ? { name: facts?.name ?? this.o.name } : {}),
    };
    let res: HttpResponse;
    try {
      res = await (this.o.fetch ?? httpFetch)(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (cause) {
      throw new LoaError('ENROL_UNREACHABLE', `Không kết nối được máy chủ ${endpoint}`, { cause });
    }
    const json = (await res.json().catch(() => undefined)) as
      | { error?: { code?: string; message?: string } }
      | undefined;
    if (!res.ok) {
      const code = json?.error?.code ?? `ENROL_HTTP_${res.status}`;
      throw new LoaError(code, json?.error?.message ?? `Máy chủ trả lời HTTP ${res.status}`, {
        details: { status: res.status },
      });
    }
    const answer = EnrolAnswerSchema.safeParse(json);
    if (!answer.success)
      throw new LoaError('ENROL_BAD_ANSWER', 'Câu trả lời đăng ký không đúng định dạng', {
        cause: answer.error,
      });
    const a = answer.data;
    if (a.trust) await this.o.trust.install(a.trust); // verified against the pinned roots
    const creds: Credentials = {
      deviceId: a.deviceId,
      unit: a.unit,
      status: a.status,
      mqtt: a.mqtt,
      endpoints: a.endpoints,
      fleetUrl: url,
      enrolledAt: new Date(this.o.clock.now()).toISOString(),
    };
    await writeJsonAtomic(this.o.credentialsFile, creds, 0o600);
    this.creds = creds;
    // Forget the token: rewrite the provisioning file without it (crash-safe, on FAT too); a stale
    // one is dropped too when the technician enrolled with another.
    if (this.o.provisioningFile && facts?.token) await forgetEnrolmentToken(this.o.provisioningFile);
    clearTimeout(this.timer);
    this.log.info({ deviceId: a.deviceId, unit: a.unit, status: a.status }, 'enrolled');
    this.emit('enrolled', creds);
    return creds;
  }
}
