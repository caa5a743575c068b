/**
 * Display test harness: real media made by ffmpeg, signed bundle directories (buildBundleDir +
 * signBundleDir), the real display service (kiosk server on 127.0.0.1, display lane, watchdog)
 * with a real proof journal, and Debian's Chromium driven by playwright-core.
 */
import { execFile } from 'node:child_process';
import { type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  generateKeyPair,
  type Item,
  type KeyPair,
  type Manifest,
  type RelayState,
  type ScheduleEntry,
} from '@loa/protocol';
import { buildBundleDir, signBundleDir } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type DisplayConfig, DisplayConfigSchema } from '../../../agent/src/config-display.js';
import type { PlanBundle, Slot } from '../../../agent/src/domain/scheduler/types.js';
import { SimDisplayDriver, SimScreenPower } from '../../../agent/src/drivers/display/sim.js';
import type { DisplayDriver, ScreenPower } from '../../../agent/src/drivers/display/types.js';
import { DisplayService } from '../../../agent/src/services/display/display-service.js';
import type { OutputGate } from '../../../agent/src/services/playback/ports.js';
import { ProofJournal } from '../../../agent/src/services/playback/proof-journal.js';
import { silent } from '../services/helpers.js';

const run = promisify(execFile);
export const ART = join(process.cwd(), 'tests', 'artifacts', 'display');
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const device = generateKeyPair();

export interface Media {
  png: string;
  webm: string;
  badPng: string;
  badWebm: string;
}

/** A test card image and a 4 s VP8 video from ffmpeg's test sources, and two corrupt files. */
export async function makeMedia(dir: string): Promise<Media> {
  await mkdir(dir, { recursive: true });
  const png = join(dir, 'anh.png');
  const webm = join(dir, 'video.webm');
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=1280x720:rate=1',
    '-frames:v',
    '1',
    png,
  ]);
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '4'],
    ...['-c:v', 'libvpx', '-b:v', '400k', webm],
  ]);
  const badPng = join(dir, 'hong.png');
  const badWebm = join(dir, 'hong.webm');
  // A PNG signature followed by garbage; a WebM header cut short and filled with noise.
  await writeFile(
    badPng,
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4000)]),
  );
  await writeFile(badWebm, Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), randomBytes(8000)]));
  return { png, webm, badPng, badWebm };
}

export interface ItemSpec extends Partial<Omit<Item, 'blob'>> {
  id: string;
  kind: Item['kind'];
  file?: string;
  mediaType?: string;
}

let seq = 0;
const signer: KeyPair = generateKeyPair();

/** A signed bundle directory with the given items and schedule, as the bundle store activates it. */
export async function signedBundle(
  work: string,
  spec: {
    id: string;
    channel?: string;
    items: ItemSpec[];
    schedule?: ScheduleEntry[];
    activatedAt?: number;
    expires?: string;
    version?: number;
    signer?: KeyObject;
    /** Where the bundle directory is written (default: a new one under `work`). */
    out?: string;
  },
): Promise<PlanBundle> {
  const out = spec.out ?? join(work, `bundle-${spec.id}-${++seq}`);
  const files = spec.items.filter((i) => i.file).map((i) => i.file as string);
  await buildBundleDir(out, {
    files,
    manifest: (blobs) => ({
      type: 'loa-bundle',
      format: 1,
      id: spec.id,
      channel: spec.channel ?? 'main',
      version: spec.version ?? 1,
      created: '2026-12-01T00:00:00Z',
      expires: spec.expires ?? '2036-01-01T00:00:00Z',
      utcOffset: '+07:00',
      targets: [{ unit: '08/02500' }],
      items: spec.items.map((i) => {
        const { file, mediaType, ...rest } = i;
        const it: Record<string, unknown> = {
          title: `Bản tin ${i.id}`,
          priority: 'normal',
          lang: 'vi',
          ...rest,
        };
        if (file) {
          const b = blobs.find((x) => x.path === file);
          if (!b) throw new Error(`no blob for ${file}`);
          it.blob = { sha256: b.sha256, size: b.size, mediaType: mediaType ?? 'application/octet-stream' };
        }
        return it;
      }),
      ...(spec.schedule ? { schedule: spec.schedule } : {}),
      signatures: [],
    }),
  });
  const { manifest } = await signBundleDir(out, spec.signer ?? signer.privateKey);
  return {
    manifest: manifest as Manifest,
    blobDir: join(out, 'blobs'),
    activatedAt: spec.activatedAt ?? Date.now(),
  };
}

export interface DisplayHarness {
  display: DisplayService;
  journal: ProofJournal;
  alerts: { code: string; message: string }[];
  audio: Slot[];
  stop(): Promise<void>;
}

export async function startDisplay(
  work: string,
  opts: {
    config?: Partial<DisplayConfig> & Record<string, unknown>;
    bundles?: PlanBundle[];
    driver?: DisplayDriver;
    stateFile?: string;
    journalDir?: string;
    /** The device whose key signs the proofs (default: a test key, id bang-tin-1). */
    deviceId?: string;
    deviceKey?: KeyObject;
    /** Screen power (default: the simulated one). */
    power?: ScreenPower;
    /** The display service's logger (default: silent). */
    logger?: Logger;
    /** The amplifier (a GateShare lease) for videos with sound, and its relay state for proofs. */
    gate?: OutputGate;
    relays?: () => RelayState;
  } = {},
): Promise<DisplayHarness> {
  const config = DisplayConfigSchema.parse({ port: 0, unitName: 'UBND xã Sơn Dương', ...opts.config });
  const journal = new ProofJournal({
    dir: opts.journalDir ?? join(work, `journal-${++seq}`),
    privateKey: opts.deviceKey ?? device.privateKey,
    deviceId: () => opts.deviceId ?? 'bang-tin-1',
    clock: { now: () => Date.now() },
    logger: silent,
  });
  await journal.start();
  const alerts: { code: string; message: string }[] = [];
  const audio: Slot[] = [];
  const display = new DisplayService({
    config,
    clock: { now: () => Date.now(), trusted: () => true },
    timers: {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    logger: opts.logger ?? silent,
    policy: { utcOffset: '+07:00' },
    proofs: journal,
    relays: opts.relays ?? (() => ({ amplifier: false })),
    ...(opts.gate ? { gate: opts.gate } : {}),
    audioSlots: () => audio,
    driver: opts.driver ?? new SimDisplayDriver(),
    power: opts.power ?? new SimScreenPower(),
    ...(opts.stateFile ? { stateFile: opts.stateFile } : {}),
    onAlert: (code, message) => alerts.push({ code, message }),
  });
  if (opts.bundles) display.setBundles(opts.bundles);
  await display.start();
  return {
    display,
    journal,
    alerts,
    audio,
    stop: async () => {
      await display.stop();
      await journal.stop();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

const PROBES = fileURLToPath(new URL('./probes.js', import.meta.url));

export async function openKiosk(
  browser: Browser,
  url: string,
  size = { width: 1280, height: 720 },
): Promise<Page> {
  const page = await browser.newPage({ viewport: size });
  await page.addInitScript({ path: PROBES });
  await page.goto(url);
  return page;
}

/** Calls a read-out of probes.js in the page. */
export function probe<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate<T>(`window.__loaProbe.${name}(...${JSON.stringify(args)})`);
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  bottom: number;
  right: number;
}
export interface Fit {
  text: string;
  over: number;
  overX: number;
  fontPx: number;
}
export interface MediaBox {
  x: number;
  y: number;
  w: number;
  h: number;
  natural: number | null;
  complete: boolean | null;
  t: number | null;
  muted: boolean | null;
  ready: number | null;
  vw: number | null;
}

/** Waits until the page reported `key` painted (GET /kiosk/now agrees). */
export async function waitOnScreen(
  h: DisplayHarness,
  pred: (now: NonNullable<ReturnType<DisplayService['lane']['onScreen']>>) => boolean,
  timeoutMs = 15_000,
): Promise<NonNullable<ReturnType<DisplayService['lane']['onScreen']>>> {
  const t0 = Date.now();
  for (;;) {
    const now = h.display.lane.onScreen();
    if (now && pred(now)) return now;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not on screen: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function shot(page: Page, name: string): Promise<void> {
  await mkdir(ART, { recursive: true });
  await page.screenshot({ path: join(ART, `${name}.png`) });
}
