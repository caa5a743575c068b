/**
 * The agent's only composition root: reads the config and files, picks real or simulated
 * drivers, constructs every service, starts them in order and stops them in reverse.
 *   npm run agent -- --config FILE          (development, TypeScript sources)
 *   loa-agent --config FILE                 (compiled build, agent/bin/loa-agent.js)
 *   loa-agent --hash-password < password    (prints a scrypt hash for the technician page)
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { globalTimers, keyId, LoaError, type Status, systemClock } from '@loa/protocol';
import { writeFileAtomic, writeJsonAtomic } from '@loa/protocol/fs';
import { type Logger, multistream, pino } from 'pino';
import { z } from 'zod';
import { runCli } from './cli.js';
import type { AgentConfig } from './config.js';
import type { ClockReading } from './domain/clock-trust.js';
import type { AudioDriver } from './drivers/audio/types.js';
import { SINK_RATE } from './drivers/audio/wav-sink.js';
import { createAudio, createDisplay } from './drivers/factory.js';
import { FmCapture } from './drivers/fm/capture.js';
import type { Listenable } from './events.js';
import { createHttpFetch, type HttpFetch } from './http/client.js';
import { type ActiveBundle, BundleStore } from './services/content/bundle-store.js';
import { loadPinnedRoots, TrustStore } from './services/content/trust-store.js';
import { UsbImport } from './services/content/usb-import.js';
import type { DisplayService } from './services/display/display-service.js';
import type { ScreenshotUploader } from './services/display/screenshot-uploader.js';
import { stationExecutors } from './services/fleet/command-executors.js';
import { CommandHandler } from './services/fleet/commands.js';
import {
  CredentialsSchema,
  Enrolment,
  loadOrCreateDeviceKey,
  readProvisioning,
} from './services/fleet/enrolment.js';
import { FleetLink } from './services/fleet/fleet-link.js';
import { HealthCollector } from './services/fleet/health.js';
import { stationInbox } from './services/fleet/inbox.js';
import { Player } from './services/playback/player.js';
import { ProofJournal } from './services/playback/proof-journal.js';
import { TrustedClock } from './services/station/clock.js';
import { GateShare } from './services/station/gate-share.js';
import { relayTester } from './services/station/relay-test.js';
import { buildHardware, type StationHardware } from './services/station/station-hardware.js';
import { toneRoutineRunner } from './services/station/tone-routine.js';
import { dataPaths, ensureDir, readJsonFile } from './services/system/data-dir.js';
import { LogRing } from './services/system/log-ring.js';
import { readProvisioningFile } from './services/system/provisioning.js';
import { ReleaseDir } from './services/system/release-dir.js';
import { SdNotify } from './services/system/sd-notify.js';
import { SelfUpdate } from './services/system/self-update.js';
import type { TechnicianPage } from './services/system/technician-page.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentRuntime {
  config: AgentConfig;
  hardware: StationHardware;
  /** The audio driver in use (simulated in demos and tests). */
  audio: AudioDriver;
  bundles: BundleStore;
  journal: ProofJournal;
  player: Player;
  clock: TrustedClock;
  health: HealthCollector;
  enrolment: Enrolment;
  link(): FleetLink | undefined;
  technician?: TechnicianPage;
  /** A noticeboard's screen, when the config has a `display` section. */
  display?: DisplayService;
  /** Milliseconds from startAgent() to the programme being planned. */
  readyMs: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  logRing?: LogRing;
  env?: NodeJS.ProcessEnv;
  /** HTTP for enrolment and downloads (default: node:http, see http/client.ts); fetch fits. */
  fetch?: HttpFetch;
  /** What the reboot command does; default: `systemctl reboot` if allowed, else a process restart. */
  reboot?: () => void;
  /** The board's clocks (default Date.now / performance.now); the simulator injects drift here. */
  clockReading?: () => ClockReading;
}

const StateSchema = z.object({ boot: z.number().int().min(0) });

/** Builds and starts the whole agent. On failure everything already started is stopped. */
export async function startAgent(config: AgentConfig, opts: StartOptions = {}): Promise<AgentRuntime> {
  const t0 = performance.now();
  const ring = opts.logRing ?? new LogRing();
  const log =
    opts.logger ??
    pino({ level: config.log.level }, multistream([{ stream: process.stdout }, { stream: ring }]));
  const env = opts.env ?? process.env;
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  const started = <T>(name: string, svc: T, stop: (s: T) => Promise<void> | void): T => {
    stops.push({ name, stop: () => stop(svc) });
    return svc;
  };
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.error({ err, service: s.name }, 'stop failed');
      }
    }
  };

  try {
    const paths = dataPaths(config.device.dataDir);
    await ensureDir(paths.root, 0o700);
    const boot = ((await readJsonFile(paths.state, StateSchema).catch(() => undefined))?.boot ?? 0) + 1;
    await writeJsonAtomic(paths.state, { boot }, 0o600);
    const key = await loadOrCreateDeviceKey(paths.deviceKey, log);
    const provisionalId = `k-${keyId(key).slice(0, 16)}`;

    // Hardware first: relays to the safe state before anything else can fail.
    const hw = await buildHardware(config.hardware, log, systemClock);
    started('gpio', hw.gpio, (g) => g.close());
    await hw.amplifier.start();
    started('amplifier', hw.amplifier, (a) => a.stop());
    await hw.inputs.start();
    started('inputs', hw.inputs, (i) => i.stop());
    if (hw.modem)
      started('modem', hw.modem, (m) => m.stop())
        .start()
        .catch((err: unknown) => log.warn({ err }, 'modem start failed'));
    if (hw.fm) {
      const fm = hw.fm;
      started('fm', fm, (f) => f.stop());
      fm.start()
        .then(() => (config.hardware.fm.frequencyMHz ? fm.tune(config.hardware.fm.frequencyMHz) : undefined))
        .catch((err: unknown) => log.warn({ err }, 'FM tuner start failed'));
    }

    const clock = new TrustedClock(
      { dataDir: paths.root, ...(hw.modem ? { modem: hw.modem } : {}) },
      { logger: log, ...(opts.clockReading ? { reading: opts.clockReading } : {}) },
    );
    await clock.start();
    started('clock', clock, (c) => c.stop());

    const pinned = await loadPinnedRoots(config.trust.rootKeys, config.trust.threshold);
    const trust = new TrustStore({ file: paths.trust, pinned, clock, logger: log });
    await trust.start();

    // The fleet server's TLS key pin (config, else the provisioning file): HTTPS and mqtts must match it.
    const tlsPin =
      config.fleet?.tlsPin ??
      (config.fleet?.provisioningFile
        ? (await readProvisioningFile(config.fleet.provisioningFile).catch(() => undefined))?.fleetTlsPin
        : undefined);
    const fetch = opts.fetch ?? (tlsPin ? createHttpFetch({ tlsPin }) : undefined);
    const enrolment = new Enrolment({
      credentialsFile: paths.credentials,
      fleetUrl: config.fleet?.url,
      token: config.fleet?.enrolmentToken,
      provisioningFile: config.fleet?.provisioningFile,
      privateKey: key,
      hardware: async () => ({
        model: await readFile('/proc/device-tree/model', 'utf8')
          .then((m) => m.replace(/\0/g, '').trim())
          .catch(() => null),
        arch: process.arch,
        agentVersion: AGENT_VERSION,
        node: process.version,
      }),
      trust,
      clock,
      logger: log,
      // The id proofs already carry; the server keeps it when free, so the chain stays one device's.
      preferredDeviceId: config.device.id ?? provisionalId,
      ...(config.device.name ? { name: config.device.name } : {}),
      ...(fetch ? { fetch } : {}),
    });
    const creds = () => enrolment.credentials();
    const deviceId = () => creds()?.deviceId ?? config.device.id ?? provisionalId;
    const unit = () => creds()?.unit ?? config.device.unit;

    const deviceHeaders = (): Record<string, string> => {
      const c = creds();
      return c
        ? {
            authorization: `Basic ${Buffer.from(`${c.mqtt.username}:${c.mqtt.password}`).toString('base64')}`,
          }
        : {};
    };

    const journal = new ProofJournal({ dir: paths.journal, privateKey: key, deviceId, clock, logger: log });
    await journal.start();
    started('journal', journal, (j) => j.stop());

    const bundles = new BundleStore({
      dir: paths.bundles,
      trust: () => trust.current(),
      device: () => {
        const u = unit();
        return u ? { unit: u, deviceId: deviceId(), groups: config.device.groups } : undefined;
      },
      clock,
      clockTrusted: () => clock.trusted(),
      signedTime: (ms, what) => clock.noteSignedTime(ms, what),
      logger: log,
      headers: deviceHeaders,
      ...(fetch ? { fetch } : {}),
    });
    await bundles.start();
    started('bundles', bundles, (b) => b.stop());
    let link: FleetLink | undefined;
    let reportError: (code: string, message: string) => void = () => undefined;
    const selfUpdate =
      config.update &&
      new SelfUpdate({
        releases: new ReleaseDir(config.update.releasesDir, config.update.factoryDir),
        trust: () => trust.current(),
        device: () => {
          const u = unit();
          return u ? { unit: u, deviceId: deviceId(), groups: config.device.groups } : undefined;
        },
        clock,
        logger: log,
        headers: deviceHeaders,
        report: async (s) => (await link?.reportStatus(s)) ?? false,
        reportError: (code, message) => reportError(code, message),
        maxStarts: config.update.maxStarts,
        ...(fetch ? { fetch } : {}),
      });
    if (selfUpdate) {
      await selfUpdate.start();
      started('self-update', selfUpdate, (u) => u.stop());
    }
    // Rollout statuses of bundles and of agent releases go up the same link.
    const statuses: Listenable<{ status: Status }> = {
      on: (event, listener) => {
        const offs = [bundles.on(event, listener), selfUpdate?.on(event, listener)];
        return () => {
          for (const off of offs) off?.();
        };
      },
    };
    const agentVersion = selfUpdate?.current().release?.agentVersion ?? AGENT_VERSION;

    const audio = await createAudio(config.audio, log);
    const chimeCfg = config.station.emergencyChime;
    const chime = chimeCfg && {
      durationMs: chimeCfg.durationMs,
      ...(chimeCfg.file ? { path: chimeCfg.file } : {}),
      ...(chimeCfg.toneHz ? { tone: { frequencyHz: chimeCfg.toneHz } } : {}),
    };
    const relayCfg = config.audio.streamRelay;
    const policy = {
      utcOffset: config.station.utcOffset,
      quietHours: config.station.quietHours,
      volume: config.station.volume,
      volumeWindows: config.station.volumeWindows,
    };
    // one amplifier for the player and a noticeboard's videos with sound
    const amplifierShare = new GateShare(hw.amplifier);
    // The health collector is built after the player; its alerts reach it once it exists.
    let health: HealthCollector | undefined;
    const player = new Player({
      programme: bundles,
      audio: audio.driver,
      gate: amplifierShare.lease('player'),
      proofs: journal,
      clock,
      logger: log,
      policy: { ...policy, ...(chime ? { chime } : {}) },
      stateFile: paths.player,
      ...(config.audio.outputDelayMs !== undefined ? { initialLatencyMs: config.audio.outputDelayMs } : {}),
      warmDecoder: config.audio.warmDecoder,
      streamRelay: {
        failoverMs: relayCfg.failoverS * 1000,
        silenceMs: relayCfg.silenceS * 1000,
        ...(relayCfg.fallback === 'none' ? {} : { fallback: { kind: 'input', input: relayCfg.fallback } }),
      },
      ...(audio.probeDurationMs ? { probeDurationMs: audio.probeDurationMs } : {}),
      ...(hw.fm
        ? {
            fm: new FmCapture({
              tuner: hw.fm,
              logger: log,
              ...(config.hardware.fm.frequencyMHz ? { homeMHz: config.hardware.fm.frequencyMHz } : {}),
            }),
          }
        : {}),
      onAlert: (code, message) => health?.reportError(code, message),
    });
    await player.start();
    started('player', player, (p) => p.stop());
    const readyMs = performance.now() - t0;

    let display: DisplayService | undefined;
    let screenshots: ScreenshotUploader | undefined;
    health = new HealthCollector({
      agentVersion,
      clock,
      dataDir: paths.root,
      relays: () => hw.amplifier.relays(),
      inputs: () => hw.inputs.state(),
      modem: () => hw.modem?.status() ?? undefined,
      player: () => {
        const s = player.status();
        return { onAir: s.onAir, volume: s.volume, deadAir: s.deadAir };
      },
      bundles: () => bundles.active().map((b) => ({ channel: b.channel, id: b.id, version: b.version })),
      trustVersion: () => trust.current()?.version,
      clockState: () => clock.state(),
      proofBacklog: () => journal.backlog,
      lastError: () => bundles.lastError ?? enrolment.lastError,
      display: () => display?.health(),
      usbImport: () => {
        const r = usb?.recent()[0];
        if (!r) return undefined;
        const { message: _m, ...rest } = r;
        return { ...rest, file: rest.file.slice(-300) };
      },
    });
    reportError = (code, message) => health.reportError(code, message);
    const usb =
      config.usb &&
      new UsbImport({
        dir: config.usb.dir,
        bundles,
        clock,
        logger: log,
        pollMs: config.usb.pollS * 1000,
        // heard at the station: a short high tone when taken, a long low one when refused; played
        // at once even on an offline station whose clock is not trusted (a signal, not a programme)
        signal: (ok) =>
          void player.testTone(ok ? 1 : 2, ok ? 1320 : 330, { local: true }).catch(() => undefined),
        reportError,
      });
    if (usb) {
      usb.start();
      started('usb-import', usb, (u) => u.stop());
    }

    // A noticeboard: the kiosk page on 127.0.0.1, its browser and screen, from the same programme.
    if (config.display) {
      const { DisplayService } = await import('./services/display/display-service.js');
      const screen = await createDisplay(config.display, log);
      display = new DisplayService({
        config: config.display,
        clock,
        timers: globalTimers,
        logger: log,
        policy,
        proofs: journal,
        relays: () => hw.amplifier.relays(),
        // Emergencies of the loudspeakers' plan raise the overlay too.
        audioSlots: () => player.timeline().slots,
        programme: bundles,
        driver: screen.driver,
        power: screen.power,
        stateFile: join(paths.root, 'display.json'),
        onAlert: (code, message) => health.reportError(code, message),
        gate: amplifierShare.lease('display'),
      });
      await display.start();
      started('display', display, (d) => d.stop());
      const { ScreenshotUploader } = await import('./services/display/screenshot-uploader.js');
      const shots = config.display.screenshots;
      const board = display;
      screenshots = new ScreenshotUploader({
        capture: () => board.screenshot({ format: shots.format, quality: shots.quality }),
        format: shots.format,
        api: () => creds()?.endpoints.api,
        headers: deviceHeaders,
        clock,
        timers: globalTimers,
        logger: log,
        ...(shots.everyS ? { everyMs: shots.everyS * 1000 } : {}),
        ...(fetch ? { fetch } : {}),
      });
      screenshots.start();
      started('screenshots', screenshots, (u) => u.stop());
    }

    // A signed recall obeyed: the player and the screen re-plan without the bundle (what is on air
    // stops at once) and the station signs that it dropped it.
    bundles.on('withdrawn', (w) => {
      player.setBundles(bundles.planBundles());
      display?.setBundles(bundles.planBundles());
      const m = w.manifest;
      const priority = m?.items.some((i) => i.priority === 'emergency')
        ? 'emergency'
        : m?.items.some((i) => i.priority === 'priority')
          ? 'priority'
          : m
            ? 'normal'
            : undefined;
      journal
        .record({
          bundleId: w.recall.bundleId,
          channel: w.recall.channel,
          bundleVersion: w.recall.version,
          entryId: `recall:${w.recall.id}`,
          ...(priority ? { priority } : {}),
          outcome: 'withdrawn',
          reason: w.recall.reason,
          relays: hw.amplifier.relays(),
          clockTrusted: clock.trusted(),
        })
        .catch((err: unknown) =>
          log.error({ err, code: 'PROOF_RECORD_FAILED' }, 'withdrawal proof not recorded'),
        );
    });

    const relayTest = relayTester({ gate: hw.amplifier, onAir: () => player.status().onAir !== null });
    const reboot =
      opts.reboot ??
      (() => {
        if (config.device.allowReboot)
          execFile('systemctl', ['reboot'], (err) => err && log.error({ err }, 'reboot failed'));
        else process.kill(process.pid, 'SIGTERM'); // systemd restarts the agent (Restart=always)
      });
    const commands = new CommandHandler({
      file: paths.seenCommands,
      trust: () => trust.current(),
      device: () => {
        const c = creds();
        return c ? { deviceId: c.deviceId, unit: c.unit } : undefined;
      },
      clock,
      logger: log,
      executors: stationExecutors({
        player,
        relayTest,
        modem: hw.modem,
        trust,
        api: () => creds()?.endpoints.api,
        headers: deviceHeaders,
        sendHealthNow: async () => link?.sendHealthNow(),
        reboot,
        ...(fetch ? { fetch } : {}),
        ...(screenshots
          ? { screenshot: (id: string) => (screenshots as ScreenshotUploader).takeAndUpload(id) }
          : {}),
      }),
    });
    await commands.start();
    started('commands', commands, (c) => c.stop());

    const startLink = () => {
      const c = creds();
      if (!c || link) return;
      link = new FleetLink({
        mqttUrl: config.fleet?.mqttUrl ?? c.mqtt.url,
        username: c.mqtt.username,
        password: c.mqtt.password,
        deviceId: c.deviceId,
        unit: c.unit,
        boot,
        agentVersion,
        journal,
        health: () => health.collect(),
        healthIntervalMs: (config.fleet?.healthIntervalS ?? 60) * 1000,
        statuses,
        ...(tlsPin ? { tlsPin } : {}),
        inbox: stationInbox({
          bundles,
          commands,
          clock,
          player,
          ...(selfUpdate ? { releases: selfUpdate } : {}),
        }),
        clock,
        logger: log,
      });
      link.start();
      started('fleet-link', link, (l) => l.stop());
    };
    // The modem registering again means the network is back: the link retries at once.
    let registered = false;
    hw.modem?.on('status', (st) => {
      const now = st.registration === 'home' || st.registration === 'roaming';
      if (now && !registered) link?.retryNow('modem registered');
      registered = now;
    });
    enrolment.on('enrolled', startLink);
    await enrolment.start();
    started('enrolment', enrolment, (e) => e.stop());
    startLink();

    let technician: TechnicianPage | undefined;
    if (config.technician.enabled) {
      const prov = config.fleet?.provisioningFile
        ? await readProvisioning(config.fleet.provisioningFile).catch(() => undefined)
        : undefined;
      const passwordHash = config.technician.passwordHash ?? prov?.technicianPasswordHash;
      const { TechnicianPage } = await import('./services/system/technician-page.js');
      technician = new TechnicianPage({
        listen: config.technician.listen,
        port: config.technician.port,
        logger: log,
        deps: {
          passwordHash: () => passwordHash,
          health: () => health.collect(),
          recentProofs: () => journal.recent(20),
          logs: () => ring.lines(),
          relayTest: (s) => relayTest(s),
          testTone: (s, hz) => player.testTone(s, hz, { local: true }),
          lineOut: {
            profile: config.audio.profile,
            run: toneRoutineRunner({ player, profile: config.audio.profile, rate: SINK_RATE }),
          },
          deviceLabel: () => `${deviceId()}${unit() ? ` (${unit()})` : ''}`,
          clock,
          clockWaiting: () => clock.waiting(),
          recalled: () => bundles.recalled(),
          held: () => player.status().held,
          enrolment: {
            state: () => {
              const c = creds();
              return c
                ? { deviceId: c.deviceId, unit: c.unit, status: c.status, fleetUrl: c.fleetUrl }
                : undefined;
            },
            enrol: async (url, token) => {
              const c = await enrolment.enrolWith(url, token);
              return { deviceId: c.deviceId, unit: c.unit, status: c.status, fleetUrl: c.fleetUrl };
            },
          },
          ...(usb
            ? {
                importTar: async (file: File) => {
                  const tmp = join(paths.root, `upload-${Date.now().toString(36)}.tar`);
                  await writeFileAtomic(tmp, new Uint8Array(await file.arrayBuffer()), 0o600);
                  try {
                    const r = await usb.importFile(tmp, `(tải lên) ${file.name}`.slice(0, 200));
                    return {
                      ok: r.ok,
                      text: r.ok
                        ? `Đã nhập ${r.channel ?? ''} v${r.version ?? '—'} (${file.name}).`
                        : `Từ chối ${file.name}: ${r.code}: ${r.message ?? ''}`,
                    };
                  } finally {
                    await rm(tmp, { force: true });
                  }
                },
              }
            : {}),
        },
      });
      await technician.start();
      started('technician', technician, (t) => t.stop());
    }

    const sd = new SdNotify({ env, logger: log });
    await sd.ready(`Sẵn sàng: ${bundles.active().length} kênh bản tin`);
    stops.push({ name: 'sd-notify', stop: () => sd.stopping() });
    log.info({ deviceId: deviceId(), boot, readyMs: Math.round(readyMs) }, 'agent started');

    return {
      config,
      hardware: hw,
      audio: audio.driver,
      bundles,
      journal,
      player,
      clock,
      health,
      enrolment,
      link: () => link,
      ...(technician ? { technician } : {}),
      ...(display ? { display } : {}),
      readyMs,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * Imports a bundle directory or .tar (USB stick) into the data dir without starting the station
 * (run it while the service is stopped; the agent plays it at its next start).
 */
export async function importBundle(
  config: AgentConfig,
  path: string,
  logger: Logger,
): Promise<ActiveBundle | undefined> {
  const paths = dataPaths(config.device.dataDir);
  await ensureDir(paths.root, 0o700);
  const clock = systemClock;
  const trust = new TrustStore({
    file: paths.trust,
    pinned: await loadPinnedRoots(config.trust.rootKeys, config.trust.threshold),
    clock,
    logger,
  });
  await trust.start();
  const creds = await readJsonFile(paths.credentials, CredentialsSchema).catch(() => undefined);
  const unit = creds?.unit ?? config.device.unit;
  const store = new BundleStore({
    dir: paths.bundles,
    trust: () => trust.current(),
    device: () =>
      unit
        ? { unit, deviceId: creds?.deviceId ?? config.device.id ?? '', groups: config.device.groups }
        : undefined,
    clock,
    // The import only verifies and installs; the running agent decides when it plays. The system
    // clock of a station offline after a power cut may be years behind: not a reason to refuse.
    clockTrusted: () => false,
    logger,
    lock: 'exclusive',
  });
  await store.start();
  try {
    return await store.importPath(path);
  } finally {
    await store.stop();
  }
}

/** The `loa-agent` command line with this composition (used by bin/loa-agent.js). */
export function agentCli(argv: string[]): Promise<number> {
  return runCli(argv, { start: startAgent, importBundle });
}

const entry = process.argv[1] ? resolve(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url)) {
  agentCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof LoaError ? `${e.code}: ` : ''}${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
