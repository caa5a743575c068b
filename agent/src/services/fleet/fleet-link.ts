/**
 * The station's MQTT link to the fleet server (mqtt.js): retained presence with a last will
 * ordered by (boot, conn); health every N seconds; proofs (QoS 1) read back from the journal and
 * re-sent until acknowledged; rollout status; notify / emergency / command / ack messages in.
 * Reconnects with exponential backoff and jitter. Nothing queues in memory while offline: proofs
 * stay on disk, health is sampled fresh, status reports are dropped (the server re-asks).
 */

import { randomBytes } from 'node:crypto';
import {
  AckSchema,
  type ChoicesNotify,
  ChoicesNotifySchema,
  type Clock,
  type CommandResult,
  deviceSubscriptions,
  deviceTopic,
  type Emergency,
  EmergencySchema,
  type Health,
  HealthSchema,
  type Notify,
  NotifySchema,
  type Presence,
  packProofMessages,
  parseTopic,
  type RecallNotify,
  RecallNotifySchema,
  type ReleaseNotify,
  ReleaseNotifySchema,
  type Status,
  StatusSchema,
  TimeReplySchema,
} from '@loa/protocol';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Listenable } from '../../events.js';
import type { ProofJournal } from '../playback/proof-journal.js';
import { connectMqtt } from './fleet-link-mqtt.js';

/**
 * What the fleet link delivers to the station, each message parsed against its schema first
 * (services/fleet/inbox.ts routes them: bundles to the bundle store, commands to the command
 * handler, time to the clock).
 */
export interface FleetInbox {
  /** A newer bundle is announced on a channel. */
  notify(n: Notify): void;
  /** An emergency: its signed manifest inline, its blobs at blobBase. */
  emergency(e: Emergency): void;
  /** A command; its result (if any) is published back. */
  command(raw: unknown): Promise<CommandResult | undefined>;
  /** The server's time; rttMs when it answered a time request (then the sample is precise). */
  serverTime(ms: number, rttMs?: number): void;
  /** An agent release to install (self-update). */
  release?(n: ReleaseNotify): void;
  /** A signed recall: withdraw a bundle (for an emergency, its cancel). */
  recall?(r: RecallNotify): void;
  /** A commune's signed programme choices (opt-outs, quiet hours) to apply. */
  choices?(c: ChoicesNotify): void;
}

export interface FleetLinkOptions {
  mqttUrl: string;
  username?: string;
  password?: string;
  deviceId: string;
  unit: string;
  /** Agent starts, persisted by the caller; orders presence across reboots. */
  boot: number;
  agentVersion: string;
  /** Proofs to send (read back from disk until acknowledged). */
  journal: Pick<ProofJournal, 'read' | 'ack' | 'on' | 'ackedSeq' | 'lastSeq'>;
  health: () => Promise<Health>;
  healthIntervalMs: number;
  /** Rollout statuses to publish (the bundle store's). */
  statuses?: Listenable<{ status: Status }>;
  /** Where messages from the server go. */
  inbox: FleetInbox;
  /** How often to ask the server for the time (default 30 min; also at every connection; 0: never). */
  timeSyncIntervalMs?: number;
  clock: Clock;
  logger: Logger;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Re-send unacknowledged proofs when no ack came for this long (default 60 s). */
  resendAfterMs?: number;
  /** The fleet server's TLS key pin (provisioning file): an mqtts server must present it. */
  tlsPin?: string;
  /** mqtt.js options for tests (e.g. keepalive). */
  mqttOptions?: Partial<IClientOptions>;
}

const MAX_IN_BYTES = 1024 * 1024;
const PROOF_BATCH = 50;

export class FleetLink {
  private client: MqttClient | undefined;
  private conn = 0;
  private failures = 0;
  private stopped = true;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private timeTimer: NodeJS.Timeout | undefined;
  /** The time request in flight: its id and when it left (monotonic, immune to clock steps). */
  private timeReq: { id: string; sentMono: number } | undefined;
  private sentUpTo = 0;
  private flushing = false;
  private ackSeenAt = 0;
  private readonly log: Logger;
  private readonly unsubscribe: (() => void)[] = [];
  connectedSince: number | undefined;

  constructor(private readonly o: FleetLinkOptions) {
    this.log = o.logger.child({ module: 'fleet-link' });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    this.stopped = false;
    this.unsubscribe.push(this.o.journal.on('appended', () => void this.flush()));
    if (this.o.statuses) this.unsubscribe.push(this.o.statuses.on('status', (s) => this.publishStatus(s)));
    this.open();
    this.healthTimer = setInterval(() => void this.sendHealth(), this.o.healthIntervalMs);
    this.resendTimer = setInterval(
      () => this.checkResend(),
      Math.min(this.o.resendAfterMs ?? 60_000, 60_000),
    );
    const timeEvery = this.o.timeSyncIntervalMs ?? 30 * 60_000;
    if (timeEvery > 0) this.timeTimer = setInterval(() => this.askTime(), timeEvery);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.healthTimer);
    clearInterval(this.resendTimer);
    clearInterval(this.timeTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (c.connected) {
      // A clean goodbye: the retained presence says offline with this connection's order.
      // Bounded: on a link that died unnoticed the acknowledgement never comes, and a station
      // must still stop (the last will says offline for us then).
      await withinMs(
        c.publishAsync(deviceTopic(this.o.deviceId, 'presence'), JSON.stringify(this.presence('offline')), {
          qos: 1,
          retain: true,
        }),
        STOP_STEP_MS,
      );
    }
    const ended = await withinMs(c.endAsync(false), STOP_STEP_MS);
    if (!ended) c.end(true);
  }

  /** Publishes a rollout status if connected (dropped otherwise). */
  publishStatus(s: Status): void {
    if (!this.connected || !StatusSchema.safeParse(s).success) return;
    this.client?.publish(deviceTopic(this.o.deviceId, 'status'), JSON.stringify(s), { qos: 1 });
  }

  /**
   * Sends health, then a status at QoS 1 and resolves true once the broker acknowledged it
   * (false when offline or refused): how a new agent release proves it reached the server.
   */
  async reportStatus(s: Status): Promise<boolean> {
    if (!this.connected || !StatusSchema.safeParse(s).success) return false;
    await this.sendHealth();
    try {
      await this.client?.publishAsync(deviceTopic(this.o.deviceId, 'status'), JSON.stringify(s), { qos: 1 });
      return this.connected;
    } catch {
      return false;
    }
  }

  private presence(state: 'online' | 'offline'): Presence {
    return {
      state,
      boot: this.o.boot,
      conn: this.conn,
      at: new Date(this.o.clock.now()).toISOString(),
      agentVersion: this.o.agentVersion,
    };
  }

  private open(): void {
    if (this.stopped) return;
    this.conn++;
    const presenceTopic = deviceTopic(this.o.deviceId, 'presence');
    const opts: IClientOptions = {
      clientId: this.o.deviceId,
      clean: false,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65,536 two-byte packet-id buffers on the first packet
      // (~6 MB of heap held for the life of the process); a station sends a few packets a minute.
      writeCache: false,
      will: {
        topic: presenceTopic,
        payload: Buffer.from(JSON.stringify(this.presence('offline'))),
        qos: 1,
        retain: true,
      },
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password ? { password: this.o.password } : {}),
      ...this.o.mqttOptions,
    };
    let c: MqttClient;
    try {
      c = connectMqtt(this.o.mqttUrl, opts, this.o.tlsPin);
    } catch (err) {
      this.log.error(
        { err: (err as Error).message, code: (err as { code?: string }).code },
        'mqtt link not opened',
      );
      return;
    }
    this.client = c;
    c.on('connect', () => void this.onConnect(c));
    c.on('message', (topic, payload) => void this.onMessage(topic, payload));
    c.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'));
    c.on('close', () => {
      if (this.client !== c) return;
      if (this.connectedSince !== undefined) this.log.warn('fleet link lost');
      this.connectedSince = undefined;
      this.scheduleReconnect(c);
    });
  }

  /**
   * The network is back (the modem registered again): retry at once with the backoff started
   * afresh, instead of waiting out a delay grown over hours offline (up to reconnectMaxMs).
   */
  retryNow(reason: string): void {
    if (this.stopped || !this.reconnectTimer) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failures = 0;
    this.log.info({ reason }, 'fleet link: retrying now');
    this.open();
  }

  private scheduleReconnect(old: MqttClient): void {
    if (this.stopped || this.reconnectTimer) return;
    old.removeAllListeners();
    old.on('error', () => undefined);
    old.end(true);
    this.failures++;
    const min = this.o.reconnectMinMs ?? 1000;
    const max = this.o.reconnectMaxMs ?? 5 * 60_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 20)) * (0.5 + Math.random());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, delay);
  }

  private async onConnect(c: MqttClient): Promise<void> {
    this.failures = 0;
    this.connectedSince = this.o.clock.now();
    this.log.info({ conn: this.conn }, 'fleet link up');
    try {
      await c.publishAsync(
        deviceTopic(this.o.deviceId, 'presence'),
        JSON.stringify(this.presence('online')),
        {
          qos: 1,
          retain: true,
        },
      );
      await c.subscribeAsync(deviceSubscriptions(this.o.deviceId, this.o.unit), { qos: 1 });
    } catch (err) {
      this.log.warn({ err }, 'fleet link setup failed');
      return;
    }
    this.sentUpTo = this.o.journal.ackedSeq;
    this.ackSeenAt = this.o.clock.now();
    if ((this.o.timeSyncIntervalMs ?? 1) > 0) this.askTime();
    void this.sendHealth();
    void this.flush();
  }

  /** SNTP over MQTT: ask the server for its time; the answer comes on d/{id}/time. */
  private askTime(): void {
    const c = this.client;
    if (!c?.connected) return;
    const id = randomBytes(8).toString('hex');
    this.timeReq = { id, sentMono: performance.now() };
    c.publishAsync(deviceTopic(this.o.deviceId, 'time-req'), JSON.stringify({ id }), { qos: 0 }).catch(
      (err) => this.log.debug({ err }, 'time request not sent'),
    );
  }

  /**
   * Sends unsent proofs in order, read from disk in batches and packed several to a message
   * (protocol/README.md, section 10), each message acknowledged by the broker.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.connected && this.client) {
        const from = Math.max(this.sentUpTo, this.o.journal.ackedSeq) + 1;
        const batch = await this.o.journal.read(from, PROOF_BATCH);
        if (batch.length === 0) break;
        const c = this.client;
        // several proofs per message (each still signed and chained on its own), under the size cap
        for (const m of packProofMessages(batch)) {
          await c.publishAsync(deviceTopic(this.o.deviceId, 'proof'), m.payload, { qos: 1 });
          this.sentUpTo = m.lastSeq;
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'proof delivery interrupted');
    } finally {
      this.flushing = false;
    }
  }

  /** No ack for a while although proofs were sent: the server may have lost them; send again. */
  private checkResend(): void {
    const j = this.o.journal;
    if (!this.connected || j.ackedSeq >= j.lastSeq) return;
    if (this.o.clock.now() - this.ackSeenAt >= (this.o.resendAfterMs ?? 60_000)) {
      this.sentUpTo = j.ackedSeq;
      this.ackSeenAt = this.o.clock.now();
      void this.flush();
    }
  }

  /** Publishes a health report now (after a sync command). */
  sendHealthNow(): Promise<void> {
    return this.sendHealth();
  }

  private async sendHealth(): Promise<void> {
    if (!this.connected) return;
    try {
      const h = HealthSchema.parse(await this.o.health());
      this.client?.publish(deviceTopic(this.o.deviceId, 'health'), JSON.stringify(h), { qos: 0 });
    } catch (err) {
      this.log.warn({ err }, 'health not sent');
    }
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (!t || payload.length > MAX_IN_BYTES) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn({ topic }, 'message is not JSON; ignored');
      return;
    }
    try {
      switch (t.kind) {
        case 'ack': {
          const a = AckSchema.parse(json);
          this.ackSeenAt = this.o.clock.now();
          this.o.inbox.serverTime(Date.parse(a.serverTime));
          await this.o.journal.ack(a.upToSeq);
          break;
        }
        case 'notify': {
          const n = NotifySchema.parse(json);
          this.o.inbox.serverTime(Date.parse(n.serverTime));
          this.o.inbox.notify(n);
          break;
        }
        case 'emergency':
          this.o.inbox.emergency(EmergencySchema.parse(json));
          break;
        case 'recall': {
          const r = RecallNotifySchema.parse(json);
          this.o.inbox.serverTime(Date.parse(r.serverTime));
          this.o.inbox.recall?.(r);
          break;
        }
        case 'choices': {
          const c = ChoicesNotifySchema.parse(json);
          this.o.inbox.serverTime(Date.parse(c.serverTime));
          this.o.inbox.choices?.(c);
          break;
        }
        case 'release': {
          const r = ReleaseNotifySchema.parse(json);
          this.o.inbox.serverTime(Date.parse(r.serverTime));
          this.o.inbox.release?.(r);
          break;
        }
        case 'time': {
          const r = TimeReplySchema.parse(json);
          const req = this.timeReq;
          // only the answer to the request in flight: an old or foreign one has no round trip
          if (!req || req.id !== r.id) break;
          this.timeReq = undefined;
          const rtt = performance.now() - req.sentMono;
          if (rtt <= 10_000) this.o.inbox.serverTime(Date.parse(r.serverTime), rtt);
          break;
        }
        case 'cmd': {
          const result = await this.o.inbox.command(json);
          if (result && this.connected)
            await this.client?.publishAsync(
              deviceTopic(this.o.deviceId, 'cmd-result'),
              JSON.stringify(result),
              {
                qos: 1,
              },
            );
          break;
        }
      }
    } catch (err) {
      this.log.warn({ topic, err: (err as Error).message.slice(0, 300) }, 'message refused');
    }
  }
}

/** How long each step of a clean disconnect may take before the link is dropped. */
const STOP_STEP_MS = 2000;

/** Resolves true when `p` settles (fulfilled or rejected) within `ms`, false otherwise. */
function withinMs(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
