/**
 * The embedded aedes broker with the fleet's policy: device authentication, ACLs from
 * domain/acl.ts, frame and payload size limits, a per-client token bucket, bounded in-flight,
 * drain timeout, presence ordering, and a validated in-process hook for ingest.
 * MQTT over TCP (or TLS) on its own port; MQTT over WebSocket at /mqtt on the HTTP server.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import {
  type Clock,
  deviceTopic,
  LoaError,
  MAX_DEVICE_PAYLOAD,
  MAX_TOPIC_LEVELS,
  type Presence,
  type ProofUplink,
  presenceNewer,
  proofsOf,
  type TimeReply,
  type TimeRequest,
  type UpKind,
} from '@loa/protocol';
import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import {
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
  checkUpPayload,
  OwnTopics,
} from '../domain/acl.js';
import { MqttFrameGuard, type TokenBucket } from '../domain/limits.js';
import { DeviceRates } from '../domain/rate-limit.js';
import { METRIC, type Metrics } from '../metrics.js';
import type { ClusterBus } from './cluster.js';
import type { DeviceAuthenticator } from './device-auth.js';
import type {
  BrokerApi,
  DeviceMessage,
  DeviceMessageHandler,
  PresenceInfo,
  PublishOptions,
} from './types.js';

export interface BrokerLimits {
  ratePerSecond: number;
  burst: number;
  maxViolations: number;
  drainTimeoutMs: number;
  maxPayload?: number;
  connectTimeoutMs: number;
}

export interface FleetBrokerOptions {
  deviceAuth: DeviceAuthenticator;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  limits: BrokerLimits;
  host: string;
  port: number;
  tls?: { cert: Buffer | string; key: Buffer | string };
  /**
   * Several processes as one broker (broker/cluster.ts): aedes state in Redis, and the bus that
   * carries presence changes between nodes. Absent: the embedded, single-process broker.
   */
  cluster?: { bus: ClusterBus; aedes: Pick<AedesOptions, 'persistence' | 'mq'> };
}

/** A presence change as it travels between the nodes of a cluster. */
interface PresenceChange {
  deviceId: string;
  connected?: boolean;
  presence?: Presence;
}

interface ClientState {
  deviceId: string;
  unit: string;
  /** The device's message bucket and consecutive over-rate messages (shared by its connections). */
  rate: { bucket: TokenBucket; violations: number };
}

/** The peer address of an MQTT client (TCP socket, or the HTTP request of a WebSocket). */
function remoteAddressOf(client: Client): string {
  const c = client as Client & { conn?: { remoteAddress?: string }; req?: IncomingMessage };
  return c.conn?.remoteAddress ?? c.req?.socket?.remoteAddress ?? '';
}

/** Codes of CONNACK refusals (MQTT 3.1.1). */
const BAD_CREDENTIALS = 4;
const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * aedes with one shortcut: a device uplink that the publish hook has consumed (health, proofs,
 * statuses, command results, time requests, and every payload dropped as invalid) is not routed.
 * No MQTT client may subscribe to a device's uplink topics (domain/acl.ts), so routing would
 * only match nothing, and in a cluster it would carry every message through Redis to every node.
 * Presence is still routed: it is retained (the persistence keeps it for every node).
 */
class FleetAedes extends Aedes {
  /** Packets accepted by the publish hook and handled already. */
  readonly consumed = new WeakSet<object>();

  // aedes calls publish(packet, client, done) for a client's packet, publish(packet, done) otherwise
  override publish(
    packet: PublishPacket,
    ...rest: [done: (error?: Error) => void] | [client: Client | null, done: (error?: Error) => void]
  ): void {
    if (this.consumed.has(packet)) {
      const done = rest[rest.length - 1];
      // after the current stack unwinds, as aedes's own path does (a QoS 0 flood must not recurse)
      if (typeof done === 'function') process.nextTick(done);
      return;
    }
    (super.publish as (...a: unknown[]) => void).call(this, packet, ...rest);
  }
}

export class FleetBroker implements BrokerApi {
  readonly aedes: FleetAedes;
  private server: NetServer | undefined;
  /** Set when stop() begins: publishes after that fail at once with BROKER_STOPPED. */
  private stopping = false;
  private wss: WebSocketServer | undefined;
  private httpServer: HttpServer | undefined;
  private readonly clients = new Map<Client, ClientState>();
  private readonly rates: DeviceRates;
  private readonly ownTopics = new OwnTopics();
  private readonly byDevice = new Map<string, Client>();
  private readonly presences = new Map<string, PresenceInfo>();
  private readonly handlers = new Set<DeviceMessageHandler>();
  private readonly presenceHandlers = new Set<(p: PresenceInfo) => void>();
  /** Clustered: the node holding each device's connection (a late "disconnected" of another is ignored). */
  private readonly owner = new Map<string, string>();
  private unsubscribeBus: (() => void) | undefined;
  private readonly log: Logger;
  private readonly maxPayload: number;
  port = 0;

  constructor(private readonly o: FleetBrokerOptions) {
    this.log = o.logger.child({ module: 'broker' });
    this.maxPayload = o.limits.maxPayload ?? MAX_DEVICE_PAYLOAD;
    this.rates = new DeviceRates(o.limits);
    this.aedes = new FleetAedes({
      drainTimeout: o.limits.drainTimeoutMs,
      connectTimeout: o.limits.connectTimeoutMs,
      maxTopicLevels: MAX_TOPIC_LEVELS + 1,
      maxInflightInbound: 100,
      maxClientsIdLength: 128,
      heartbeatInterval: 60_000,
      ...(o.cluster?.aedes ?? {}),
      authenticate: (client, username, password, done) => {
        void this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthenticateError) => done(err, false),
        );
      },
      authorizePublish: (client, packet, cb) => cb(this.authorizePublish(client, packet)),
      authorizeSubscribe: (client, sub, cb) => cb(null, this.authorizeSubscribe(client, sub)),
    });
    const m = o.metrics;
    m.define(METRIC.devicesOnline, 'gauge', 'Devices with an open MQTT connection', () => this.onlineCount());
    m.define(METRIC.mqttMessagesIn, 'counter', 'Device messages accepted by the broker');
    m.define(METRIC.mqttMessagesPerSecond, 'gauge', 'Device messages per second (last second)');
    m.define(
      METRIC.mqttInvalid,
      'counter',
      'Device payloads dropped as malformed, by label kind: the UP kind (presence, health, proof, status, cmd-result, time-req)',
    );
    m.define(
      METRIC.mqttRejected,
      'counter',
      'Publishes, subscriptions and connections refused by policy, by label reason: an ACL code ' +
        '(ACL_SYS, ACL_TOO_DEEP, ACL_FOREIGN_TOPIC, ACL_OTHER_DEVICE, ACL_WRONG_KIND, ACL_OTHER_UNIT, ' +
        'ACL_WILDCARD), missing-credentials, client-id-must-equal-username, bad-credentials-or-inactive, ' +
        'rate-limit, payload-too-large or frame-too-large',
    );
    m.define(METRIC.mqttRateLimited, 'counter', 'Clients disconnected for exceeding the message rate');
    if (o.cluster) {
      const bus = o.cluster.bus;
      const offs = [
        bus.on('presence', (data, node) => this.onRemotePresence(data as PresenceChange, node)),
        // a revoke or password reset made on another node
        bus.on('device', (data) => {
          const d = data as { deviceId?: unknown; op?: unknown };
          if (typeof d?.deviceId !== 'string') return;
          if (d.op === 'disconnect') this.byDevice.get(d.deviceId)?.close();
          if (d.op === 'forget') this.forgetLocally(d.deviceId);
        }),
      ];
      this.unsubscribeBus = () => {
        for (const off of offs) off();
      };
    }
    this.aedes.on('clientDisconnect', (client) => this.onDisconnect(client));
    this.aedes.on('clientError', (client, err) =>
      this.log.debug({ client: client?.id, err: err.message }, 'client error'),
    );
    this.aedes.on('connectionError', (client, err) =>
      this.log.debug({ client: client?.id, err: err.message }, 'connection error'),
    );
  }

  /** Starts the MQTT listener; resolves with the bound port. */
  async start(): Promise<number> {
    await this.aedes.listen();
    const onConn = (socket: Socket | Duplex) => this.handle(socket);
    this.server = this.o.tls
      ? createTlsServer({ cert: this.o.tls.cert, key: this.o.tls.key }, onConn)
      : createNetServer(onConn);
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.o.port, this.o.host, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.o.port;
    this.log.info({ port: this.port, host: this.o.host }, 'MQTT listening');
    return this.port;
  }

  /** Serves MQTT over WebSocket at /mqtt on an HTTP server. */
  attachWebSocket(http: HttpServer): void {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.maxPayload + 4096 });
    this.httpServer = http;
    http.on('upgrade', this.onUpgrade);
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mqtt' || !this.wss) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      this.handle(stream, req);
    });
  };

  private handle(conn: Socket | Duplex, req?: IncomingMessage): void {
    const guard = new MqttFrameGuard(this.maxPayload + 1024);
    const read = conn.read.bind(conn);
    conn.read = (size?: number) => {
      const buf = read(size);
      if (buf && !guard.feed(buf as Buffer)) {
        this.o.metrics.inc(METRIC.mqttRejected, 1, { reason: 'frame-too-large' });
        this.log.warn('MQTT packet larger than allowed: connection closed');
        conn.destroy();
        return null;
      }
      return buf;
    };
    conn.on('error', () => {});
    this.aedes.handle(conn, req);
  }

  private async authenticate(client: Client, username?: string, password?: Buffer): Promise<void> {
    const reject = (reason: string, code: number) => {
      this.o.metrics.inc(METRIC.mqttRejected, 1, { reason });
      this.log.info({ client: client.id, reason }, 'MQTT connection refused');
      return authError(reason, code);
    };
    if (!username || !password) throw reject('missing-credentials', BAD_CREDENTIALS);
    if (client.id !== username) throw reject('client-id-must-equal-username', IDENTIFIER_REJECTED);
    const device = await this.o.deviceAuth.verify(
      username,
      password.toString('utf8'),
      false,
      remoteAddressOf(client),
    );
    if (!device) throw reject('bad-credentials-or-inactive', NOT_AUTHORIZED);
    // the rate state belongs to the device, not the connection: reconnecting does not refill it
    const rate = this.rates.of(device.id, this.o.clock.now());
    this.clients.set(client, { deviceId: device.id, unit: device.unit, rate });
    this.byDevice.set(device.id, client);
    if (this.o.cluster) this.owner.set(device.id, this.o.cluster.bus.nodeId);
    this.setPresence(device.id, { connected: true });
    this.share({ deviceId: device.id, connected: true });
  }

  private refusePublish(deviceId: string, packet: PublishPacket, reason: string, message: string): Error {
    this.o.metrics.inc(METRIC.mqttRejected, 1, { reason });
    this.log.info({ device: deviceId, topic: packet.topic.slice(0, 200), reason }, 'publish refused');
    return new Error(message);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket): Error | null {
    const m = this.o.metrics;
    const state = client ? this.clients.get(client) : undefined;
    if (!state) {
      // a last will published after its client is gone: only a non-stale presence is allowed
      return this.checkOrphanWill(packet);
    }
    if (state.rate.bucket.take(this.o.clock.now())) state.rate.violations = 0;
    else if (++state.rate.violations > this.o.limits.maxViolations) {
      m.inc(METRIC.mqttRateLimited);
      return this.refusePublish(state.deviceId, packet, 'rate-limit', 'message rate limit exceeded');
    }
    const acl = authorizeDevicePublish(state, packet.topic, this.ownTopics);
    if (!acl.ok) return this.refusePublish(state.deviceId, packet, acl.code, acl.reason);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (payload.length > this.maxPayload)
      return this.refusePublish(state.deviceId, packet, 'payload-too-large', 'payload too large');
    const kind = acl.value;
    const check = checkUpPayload(kind, payload, this.maxPayload);
    if (
      !check.ok ||
      (kind === 'proof' && proofsOf(check.value as ProofUplink).some((p) => p.deviceId !== state.deviceId))
    ) {
      // accepted at the MQTT level (so a QoS 1 sender does not resend it forever), never retained,
      // routed nor dispatched; counted for the operators
      packet.retain = false;
      this.aedes.consumed.add(packet);
      m.inc(METRIC.mqttInvalid, 1, { kind });
      this.log.info(
        { device: state.deviceId, kind, reason: check.ok ? 'proof for another device' : check.reason },
        'invalid payload dropped',
      );
      return null;
    }
    // only presence is meant to be retained (anything else would pile up in broker memory) and
    // routed; every other uplink is handled here and goes no further
    if (kind !== 'presence') {
      packet.retain = false;
      this.aedes.consumed.add(packet);
    } else if (!this.acceptPresence(state.deviceId, check.value as Presence)) {
      packet.retain = false;
      return null;
    }
    m.inc(METRIC.mqttMessagesIn);
    if (kind === 'time-req') {
      this.answerTime(state.deviceId, check.value as TimeRequest);
      return null;
    }
    this.dispatch(
      (kind === 'health'
        ? {
            deviceId: state.deviceId,
            kind,
            payload: check.value,
            receivedAt: this.o.clock.now(),
            json: check.text,
          }
        : {
            deviceId: state.deviceId,
            kind,
            payload: check.value,
            receivedAt: this.o.clock.now(),
          }) as DeviceMessage,
    );
    return null;
  }

  /**
   * A device asks for the time (SNTP over MQTT): the answer goes out at once, stamped as late as
   * possible, QoS 0 (a retransmitted time would be stale; the device asks again).
   */
  private answerTime(deviceId: string, req: TimeRequest): void {
    const reply: TimeReply = { id: req.id, serverTime: new Date(this.o.clock.now()).toISOString() };
    this.publish(deviceTopic(deviceId, 'time'), reply, { qos: 0 }).catch(() => undefined);
  }

  private checkOrphanWill(packet: PublishPacket): Error | null {
    const m = /^loa\/v1\/d\/([^/]+)\/presence$/.exec(packet.topic);
    if (!m) return new Error('not authorised');
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const check = checkUpPayload('presence', payload, this.maxPayload);
    if (!check.ok || !this.acceptPresence(m[1] as string, check.value as Presence))
      return new Error('stale will');
    return null;
  }

  /** Records a presence if newer than the known one; false for a stale (older) one. */
  private acceptPresence(deviceId: string, p: Presence): boolean {
    const cur = this.presences.get(deviceId)?.presence;
    if (cur && !presenceNewer(cur, p) && !(cur.boot === p.boot && cur.conn === p.conn)) {
      this.log.debug({ device: deviceId, stale: p, current: cur }, 'stale presence ignored');
      return false;
    }
    this.setPresence(deviceId, { presence: p });
    this.share({ deviceId, presence: p });
    return true;
  }

  /** Tells the other nodes (clustered only) about a local presence change. */
  private share(change: PresenceChange): void {
    this.o.cluster?.bus.publish('presence', change);
  }

  /**
   * A presence change seen by another node: the same newest-presence-wins rule as a local one;
   * the connection state follows the node that holds the device's connection.
   */
  private onRemotePresence(c: PresenceChange, node: string): void {
    if (typeof c?.deviceId !== 'string') return;
    const change: { connected?: boolean; presence?: Presence } = {};
    if (c.presence) {
      const cur = this.presences.get(c.deviceId)?.presence;
      const p = c.presence;
      if (!cur || presenceNewer(cur, p) || (cur.boot === p.boot && cur.conn === p.conn)) change.presence = p;
    }
    if (c.connected === true) {
      // a local connection of the same device, if any, is being closed by aedes (same client id)
      this.owner.set(c.deviceId, node);
      change.connected = true;
    } else if (c.connected === false && this.owner.get(c.deviceId) === node) {
      this.owner.delete(c.deviceId);
      change.connected = false;
    }
    if (change.presence || change.connected !== undefined) this.setPresence(c.deviceId, change, true);
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const state = this.clients.get(client);
    const decision = state
      ? authorizeDeviceSubscribe(state, sub.topic)
      : ({ ok: false, code: 'ACL_FOREIGN_TOPIC', reason: 'unknown client' } as const);
    if (!decision.ok) {
      this.o.metrics.inc(METRIC.mqttRejected, 1, { reason: decision.code });
      this.log.info(
        { device: state?.deviceId, topic: sub.topic.slice(0, 200), reason: decision.code },
        'subscribe refused',
      );
      return null; // SUBACK 0x80 for this topic; the connection stays
    }
    return sub;
  }

  private onDisconnect(client: Client): void {
    const state = this.clients.get(client);
    if (!state) return;
    this.clients.delete(client);
    if (this.byDevice.get(state.deviceId) === client) {
      this.byDevice.delete(state.deviceId);
      // clustered: the device may already be connected to another node (which then owns it)
      const owner = this.owner.get(state.deviceId);
      if (this.o.cluster && owner !== undefined && owner !== this.o.cluster.bus.nodeId) return;
      this.owner.delete(state.deviceId);
      this.setPresence(state.deviceId, { connected: false });
      this.share({ deviceId: state.deviceId, connected: false });
    }
  }

  private setPresence(
    deviceId: string,
    change: { connected?: boolean; presence?: Presence },
    remote = false,
  ): void {
    const prev = this.presences.get(deviceId);
    const connected = change.connected ?? prev?.connected ?? false;
    const info: PresenceInfo = {
      deviceId,
      presence: change.presence ?? prev?.presence ?? null,
      connected,
      since: prev && prev.connected === connected ? prev.since : this.o.clock.now(),
      ...(remote ? { remote } : {}),
    };
    this.presences.set(deviceId, info);
    for (const h of this.presenceHandlers) {
      try {
        h(info);
      } catch (err) {
        this.log.error({ err }, 'presence handler failed');
      }
    }
  }

  private dispatch(msg: DeviceMessage): void {
    for (const h of this.handlers) {
      try {
        const r = h(msg);
        if (r && typeof (r as Promise<void>).catch === 'function')
          (r as Promise<void>).catch((err) =>
            this.log.error({ err, kind: msg.kind }, 'device message handler failed'),
          );
      } catch (err) {
        this.log.error({ err, kind: msg.kind }, 'device message handler failed');
      }
    }
  }

  // ------------------------------------------------------------------ BrokerApi
  publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    if (this.stopping)
      return Promise.reject(new LoaError('BROKER_STOPPED', 'the broker is stopping: nothing is published'));
    const buf = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: buf,
          qos: options.qos ?? 1,
          retain: options.retain ?? false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  onDeviceMessage(handler: DeviceMessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onPresence(handler: (info: PresenceInfo) => void): () => void {
    this.presenceHandlers.add(handler);
    return () => this.presenceHandlers.delete(handler);
  }

  presence(deviceId: string): PresenceInfo | undefined {
    return this.presences.get(deviceId);
  }

  presenceAll(): ReadonlyMap<string, PresenceInfo> {
    return this.presences;
  }

  /** Devices with an open connection (clustered: on any node). */
  onlineCount(): number {
    return this.o.cluster ? this.owner.size : this.byDevice.size;
  }

  disconnect(deviceId: string): void {
    this.byDevice.get(deviceId)?.close();
    this.o.cluster?.bus.publish('device', { deviceId, op: 'disconnect' });
  }

  forgetCredentials(deviceId: string): void {
    this.forgetLocally(deviceId);
    this.o.cluster?.bus.publish('device', { deviceId, op: 'forget' });
  }

  private forgetLocally(deviceId: string): void {
    this.o.deviceAuth.forget(deviceId);
    this.rates.forget(deviceId);
  }

  /** Topic helper for callers that address one device. */
  static deviceTopic(deviceId: string, kind: UpKind | 'notify' | 'cmd' | 'ack' | 'emergency'): string {
    return deviceTopic(deviceId, kind);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribeBus?.();
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const s of this.clients.keys()) s.conn.destroy();
  }
}
