/**
 * A simulated loudspeaker station for dashboard end-to-end tests, built from real parts: it
 * enrols over HTTP with a one-time token and its own Ed25519 key, connects with mqtt.js to the
 * embedded broker with the credentials it received, publishes presence and health, and on a
 * notify (or an inline emergency) fetches and VERIFIES the signed manifest with protocol/ against
 * the trust policy before it reports status and publishes signed, chained proofs of playback.
 * (The full agent lives in agent/; it has no composition root yet, so the station is simulated.)
 */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  deviceSubscriptions,
  deviceTopic,
  EmergencySchema,
  GENESIS_PREV,
  generateKeyPair,
  type KeyPair,
  type Manifest,
  NotifySchema,
  type ProofBody,
  proofHash,
  rawPublicKey,
  type TrustPolicy,
  verifyManifest,
  verifyTrustPolicy,
} from '@loa/protocol';
import mqtt, { type MqttClient } from 'mqtt';

export interface StationOptions {
  base: string;
  token: string;
  name: string;
  /** Pinned root public keys (KeyObjects) to verify the trust policy. */
  roots: KeyPair['publicKey'][];
}

export class SimStation {
  readonly keys: KeyPair = generateKeyPair();
  id = '';
  unit = '';
  private client: MqttClient | undefined;
  private password = '';
  private trust: TrustPolicy | undefined;
  private seq = 0;
  private prev = GENESIS_PREV;
  private healthSeq = 0;
  readonly played: { bundleId: string; itemId: string }[] = [];
  readonly errors: string[] = [];

  constructor(private readonly o: StationOptions) {}

  async enrol(): Promise<void> {
    const res = await fetch(`${this.o.base}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: this.o.token,
        publicKey: rawPublicKey(this.keys.publicKey).toString('base64'),
        hardware: { model: 'sim-pi4', agent: 'e2e' },
        name: this.o.name,
      }),
    });
    if (res.status !== 201) throw new Error(`enrol failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      deviceId: string;
      unit: string;
      mqtt: { url: string; username: string; password: string; clientId: string };
      trust: TrustPolicy | null;
    };
    this.id = body.deviceId;
    this.unit = body.unit;
    this.password = body.mqtt.password;
    if (body.trust)
      this.trust = verifyTrustPolicy(JSON.stringify(body.trust), {
        pinned: { keys: this.o.roots },
        now: new Date(),
      });
    const client = mqtt.connect(body.mqtt.url, {
      clientId: body.mqtt.clientId,
      username: body.mqtt.username,
      password: body.mqtt.password,
      reconnectPeriod: 500,
      will: {
        topic: deviceTopic(this.id, 'presence'),
        payload: Buffer.from(
          JSON.stringify({ state: 'offline', boot: 1, conn: 1, at: new Date().toISOString() }),
        ),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('message', (topic, payload) => {
      void this.onMessage(topic, payload).catch((err: unknown) => this.errors.push(String(err)));
    });
    await client.subscribeAsync(deviceSubscriptions(this.id, this.unit), { qos: 1 });
    await this.publish('presence', { state: 'online', boot: 1, conn: 1, at: new Date().toISOString() }, true);
    await this.health();
  }

  private async publish(kind: 'presence' | 'health' | 'proof' | 'status', payload: unknown, retain = false) {
    await this.client?.publishAsync(deviceTopic(this.id, kind), JSON.stringify(payload), { qos: 1, retain });
  }

  async health(onAir: Manifest['items'][number] | null = null, bundleId?: string): Promise<void> {
    const now = new Date().toISOString();
    await this.publish('health', {
      at: now,
      seq: this.healthSeq++,
      agentVersion: '0.1.0-e2e',
      uptimeS: 120 + this.healthSeq * 30,
      cpuTempC: 48 + (this.healthSeq % 5),
      load1: 0.3,
      diskFreeMb: 5200,
      modem: { rssiDbm: -71 - (this.healthSeq % 4), operator: 'Viettel', registration: 'home', tech: 'LTE' },
      inputs: { mains: true, door: 'closed', ampFault: false },
      relays: { amplifier: onAir !== null },
      onAir: onAir ? { bundleId, itemId: onAir.id, kind: onAir.kind, since: now, momentaryLufs: -17 } : null,
      volume: 80,
      bundles: [],
      clock: { trusted: true, source: 'ntp' },
    });
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const kind = topic.split('/').at(-1);
    if (kind === 'notify') {
      const n = NotifySchema.parse(JSON.parse(payload.toString('utf8')));
      const res = await fetch(n.manifestUrl, {
        headers: { authorization: `Basic ${Buffer.from(`${this.id}:${this.password}`).toString('base64')}` },
      });
      if (!res.ok) throw new Error(`manifest ${res.status}`);
      const manifest = await this.verify(await res.text());
      await this.status(manifest, 'verified');
      await this.status(manifest, 'active');
      await this.play(manifest, false);
    } else if (kind === 'emergency') {
      const e = EmergencySchema.parse(JSON.parse(payload.toString('utf8')));
      const manifest = await this.verify(JSON.stringify(e.manifest));
      await this.status(manifest, 'verified');
      await this.status(manifest, 'playing');
      await this.play(manifest, true);
    }
  }

  private async verify(text: string): Promise<Manifest> {
    if (!this.trust) {
      const res = await fetch(`${this.o.base}/api/v1/trust`);
      const t = (await res.json()) as TrustPolicy | { policy?: TrustPolicy } | null;
      const policy = t && 'policy' in t ? t.policy : (t as TrustPolicy | null);
      if (!policy) throw new Error('no trust policy');
      this.trust = verifyTrustPolicy(JSON.stringify(policy), {
        pinned: { keys: this.o.roots },
        now: new Date(),
      });
    }
    return verifyManifest(text, {
      trust: this.trust,
      now: new Date(),
      device: { deviceId: this.id, unit: this.unit },
    }).manifest;
  }

  private async status(m: Manifest, state: 'verified' | 'active' | 'playing'): Promise<void> {
    await this.publish('status', {
      bundleId: m.id,
      channel: m.channel,
      version: m.version,
      state,
      at: new Date().toISOString(),
    });
  }

  /** Plays the first schedule entry's first item (or the first item) and proves it. */
  private async play(m: Manifest, emergency: boolean): Promise<void> {
    const entry = m.schedule?.[0];
    const item = m.items.find((i) => i.id === entry?.items[0]) ?? m.items[0];
    if (!item) return;
    await this.health(item, m.id);
    const start = new Date();
    const end = new Date(start.getTime() + (item.durationMs ?? 3000));
    const base = {
      bundleId: m.id,
      channel: m.channel,
      bundleVersion: m.version,
      itemId: item.id,
      ...(entry ? { entryId: entry.id } : {}),
      ...(item.blob ? { contentSha256: item.blob.sha256 } : {}),
      priority: emergency ? ('emergency' as const) : item.priority,
      relays: { amplifier: true },
      clockTrusted: true,
    };
    await this.proof({ ...base, outcome: 'started', startedAt: start.toISOString() });
    if (!emergency)
      await this.proof({
        ...base,
        outcome: 'completed',
        startedAt: start.toISOString(),
        endedAt: end.toISOString(),
        loudnessLufs: -16.2,
        peakDbfs: -1.5,
      });
    this.played.push({ bundleId: m.id, itemId: item.id });
  }

  private async proof(
    draft: Omit<ProofBody, 'type' | 'format' | 'eventId' | 'deviceId' | 'seq' | 'prev' | 'at'>,
  ) {
    const body: ProofBody = {
      type: 'loa-proof',
      format: 1,
      eventId: randomUUID(),
      deviceId: this.id,
      seq: ++this.seq,
      prev: this.prev,
      ...draft,
      at: new Date().toISOString(),
    };
    const signed = addSignature({ ...body, signatures: [] }, this.keys.privateKey);
    this.prev = proofHash(signed as Parameters<typeof proofHash>[0]);
    await this.publish('proof', signed);
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
