/**
 * One simulated device: the REAL agent (startAgent from @loa/agent: enrolment, trust store,
 * bundle store with HTTP download and verification, scheduler and player, signed proof journal,
 * mqtt.js fleet link) with simulated GPIO, modem and audio timing, its traffic through its own
 * link proxy (4G latency/loss), and fault switches: power cut, faulty amplifier. A noticeboard
 * given a `display` section also runs its screen: the kiosk page and a headless Chromium.
 *
 * A signed recall (an emergency's cancel) goes through the agent's own path: the bundle store
 * verifies it against the trust policy (protocol's verifyRecall), keeps it on disk so the bundle
 * is refused from then on, the player drops what is on air, and the proof journal signs a
 * `withdrawn` proof with the station key. onAir(), recalled() and publicKey() let the simulator,
 * tests and benchmarks observe that from outside.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentRuntime } from '@loa/agent';
import { dataPaths, parseConfig, startAgent } from '@loa/agent';
import { privateKeyFromPem } from '@loa/protocol';
import type { Logger } from 'pino';
import { type LinkProfile, LinkProxy } from './link-proxy.js';

export interface SimStationSpec {
  /** Local name (directory under the sim data dir), e.g. "st-08-02500-1". */
  name: string;
  kind: 'station' | 'noticeboard';
  displayName: string;
  /** The fleet server as the simulator reaches it directly. */
  server: URL;
  /** The server's MQTT listener as the simulator reaches it directly (mqtt://host:port). */
  mqtt: URL;
  dataDir: string;
  token: string;
  rootKeys: string[];
  healthIntervalS: number;
  /** Link profile of the simulated 4G link; absent: connect directly (benchmarks). */
  profile?: LinkProfile;
  /** Amplifier warm-up (default 1500 ms). */
  warmupMs?: number;
  /** Board clock drift in parts per million (a Pi has no RTC; its crystal is off by tens of ppm). */
  clockDriftPpm?: number;
  logLevel: string;
  ampFault: boolean;
  /**
   * A noticeboard's screen: the agent config's `display` section (kiosk page on 127.0.0.1, its
   * browser). Absent: the device runs without a screen, as the audio-only simulator does.
   */
  display?: Record<string, unknown>;
}

export type StationState = 'stopped' | 'starting' | 'running' | 'power-cut';

export class SimStation {
  runtime: AgentRuntime | undefined;
  state: StationState = 'stopped';
  starts = 0;
  private httpProxy: LinkProxy | undefined;
  private mqttProxy: LinkProxy | undefined;

  /** The board's clocks, drifting by spec.clockDriftPpm; kept across restarts like the hardware. */
  private readonly reading: (() => { wallMs: number; monoMs: number }) | undefined;

  constructor(
    readonly spec: SimStationSpec,
    private readonly logger: Logger,
  ) {
    const ppm = spec.clockDriftPpm ?? 0;
    if (ppm !== 0) {
      const k = 1 + ppm / 1e6;
      const wall0 = Date.now();
      const mono0 = performance.now();
      this.reading = () => ({
        wallMs: wall0 + (Date.now() - wall0) * k,
        monoMs: mono0 + (performance.now() - mono0) * k,
      });
    }
  }

  /** How far this board's clock is off now (ms, positive = ahead). */
  clockOffsetMs(): number {
    return this.reading ? this.reading().wallMs - Date.now() : 0;
  }

  get deviceId(): string | undefined {
    return this.runtime?.enrolment.credentials()?.deviceId;
  }

  /** The bundle on air now, as the station's player reports it (undefined when silent or off). */
  onAir(): string | undefined {
    return this.runtime?.player.status().onAir?.bundleId;
  }

  /** Bundles this station withdrew by a signed recall (kept on its disk across restarts). */
  recalled(): string[] {
    return this.runtime?.bundles.recalled().map((r) => r.bundleId) ?? [];
  }

  /** The station's own public key (its device key file), with which it signs its proofs. */
  publicKey(): KeyObject {
    const pem = readFileSync(
      dataPaths(this.runtime?.config.device.dataDir ?? this.spec.dataDir).deviceKey,
      'utf8',
    );
    return createPublicKey(privateKeyFromPem(pem));
  }

  private async proxies(): Promise<void> {
    const profile = this.spec.profile;
    if (!profile) return;
    if (!this.httpProxy) {
      this.httpProxy = new LinkProxy({
        targetHost: this.spec.server.hostname,
        targetPort: Number(this.spec.server.port || (this.spec.server.protocol === 'https:' ? 443 : 80)),
        profile,
      });
      await this.httpProxy.start();
    }
    if (!this.mqttProxy) {
      this.mqttProxy = new LinkProxy({
        targetHost: this.spec.mqtt.hostname,
        targetPort: Number(this.spec.mqtt.port || 1883),
        profile,
      });
      await this.mqttProxy.start();
    }
  }

  /** Rewrites requests for the server's origin to go through the link proxy. */
  private proxiedFetch(): typeof fetch {
    const origin = this.spec.server.origin;
    return (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
      const via = this.httpProxy ? `http://127.0.0.1:${this.httpProxy.port}` : origin;
      const rewritten = url.startsWith(origin) ? `${via}${url.slice(origin.length)}` : url;
      return fetch(rewritten, init);
    };
  }

  private config() {
    mkdirSync(this.spec.dataDir, { recursive: true, mode: 0o700 });
    return parseConfig(
      {
        device: { dataDir: this.spec.dataDir, name: this.spec.displayName },
        fleet: {
          url: this.spec.server.origin,
          enrolmentToken: this.spec.token,
          healthIntervalS: this.spec.healthIntervalS,
          mqttUrl: this.mqttProxy
            ? `mqtt://127.0.0.1:${this.mqttProxy.port}`
            : `mqtt://${this.spec.mqtt.hostname}:${this.spec.mqtt.port || 1883}`,
        },
        trust: { rootKeys: this.spec.rootKeys },
        hardware: {
          gpio: { driver: 'sim' },
          amplifier: { pin: 17, warmupMs: this.spec.warmupMs ?? 1500, idleTailMs: 8000 },
          zones: {},
          inputs: {
            mains: { pin: 5, activeLow: true, debounceMs: 200 },
            door: { pin: 6, activeLow: true, debounceMs: 100 },
            ampFault: { pin: 13, debounceMs: 100 },
          },
          modem: { driver: 'sim', path: '/dev/ttyUSB2', powerPin: 24, pollIntervalS: 300 },
          fm: { driver: 'none' },
        },
        audio: { driver: 'sim', output: { type: 'null' } },
        technician: { enabled: false },
        ...(this.spec.display ? { display: this.spec.display } : {}),
        log: { level: this.spec.logLevel },
      },
      join(this.spec.dataDir, '..'),
    );
  }

  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') return;
    this.state = 'starting';
    await this.proxies();
    try {
      this.runtime = await startAgent(this.config(), {
        logger: this.logger.child({ device: this.spec.name }),
        env: {},
        fetch: this.proxiedFetch(),
        reboot: () => void this.restart(),
        ...(this.reading ? { clockReading: this.reading } : {}),
      });
    } catch (e) {
      this.state = 'stopped';
      throw e;
    }
    this.starts++;
    this.setAmpFault(this.spec.ampFault);
    this.state = 'running';
  }

  setAmpFault(on: boolean): void {
    this.spec.ampFault = on;
    this.runtime?.hardware.simGpio?.setInput('ampFault', on);
  }

  /** Power cut: the links drop without a goodbye (the broker publishes the last will), then the agent dies. */
  async powerCut(ms: number): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'power-cut';
    this.httpProxy?.outage(ms);
    this.mqttProxy?.outage(ms);
    const rt = this.runtime;
    this.runtime = undefined;
    if (!rt) return;
    // Let mqtt.js notice the dead socket first, so the agent does not try a goodbye on a dead link.
    const seen = Date.now() + 3000;
    while (rt.link()?.connected && Date.now() < seen) await new Promise((r) => setTimeout(r, 20));
    // A power cut is abrupt: whatever the agent's stop still waits for is abandoned after 10 s.
    await Promise.race([rt.stop(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }

  /** The cell drops: links are cut for `ms`, the agent keeps running (and reconnects). */
  linkOutage(ms: number): void {
    this.httpProxy?.outage(ms);
    this.mqttProxy?.outage(ms);
  }

  async restart(): Promise<void> {
    await this.stop(false);
    await this.start();
  }

  async stop(closeProxies = true): Promise<void> {
    const rt = this.runtime;
    this.runtime = undefined;
    this.state = 'stopped';
    await rt?.stop();
    if (closeProxies) {
      await this.httpProxy?.stop();
      await this.mqttProxy?.stop();
      this.httpProxy = undefined;
      this.mqttProxy = undefined;
    }
  }

  linkStats() {
    return { http: this.httpProxy?.stats, mqtt: this.mqttProxy?.stats };
  }
}
