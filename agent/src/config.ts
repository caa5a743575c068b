/**
 * The agent's configuration: one JSON file, validated with zod. Errors list every bad path in
 * plain Vietnamese (e.g. `hardware.amplifier.pin: phải là số nguyên 0–27`). Relative paths are
 * resolved against the config file's directory. See agent/config.example.json.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LoaError } from '@loa/protocol';
import { z } from 'zod';
import { DisplayConfigSchema } from './config-display.js';
import { OUTPUT_PROFILE_DEFAULTS, OutputProfileSchema } from './config-output.js';

const pin = z
  .number({ error: 'phải là số nguyên 0–27' })
  .int({ error: 'phải là số nguyên 0–27' })
  .min(0, { error: 'phải là số nguyên 0–27' })
  .max(27, { error: 'phải là số nguyên 0–27' });
const driver = z.enum(['real', 'sim'], { error: 'phải là "real" (phần cứng thật) hoặc "sim" (mô phỏng)' });
const optionalDriver = z.enum(['real', 'sim', 'none'], {
  error: 'phải là "real", "sim" hoặc "none" (không có)',
});
const path = z.string({ error: 'phải là đường dẫn tệp' }).min(1, { error: 'không được để trống' });
const timeOfDay = z
  .string({ error: 'phải là giờ dạng HH:MM' })
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: 'phải là giờ dạng HH:MM (00:00–23:59)' });
const unitPath = z
  .string({ error: 'phải là mã đơn vị hành chính' })
  .regex(/^[0-9]{2,5}(\/[0-9]{2,5}){0,4}$/, { error: 'phải là mã đơn vị dạng 08/02500 (tỉnh/xã)' });
const id = z
  .string({ error: 'phải là chuỗi' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { error: 'chỉ gồm chữ, số, ".", "_" hoặc "-" (tối đa 128)' });
const ms = (max: number) =>
  z
    .number({ error: `phải là số mili-giây 0–${max}` })
    .int({ error: `phải là số mili-giây 0–${max}` })
    .min(0, { error: `phải là số mili-giây 0–${max}` })
    .max(max, { error: `phải là số mili-giây 0–${max}` });
const volume = z
  .number({ error: 'phải là số nguyên 0–100' })
  .int({ error: 'phải là số nguyên 0–100' })
  .min(0, { error: 'phải là số nguyên 0–100' })
  .max(100, { error: 'phải là số nguyên 0–100' });

const relay = z.strictObject({ pin, activeLow: z.boolean().default(false) });
const input = z.strictObject({
  pin,
  activeLow: z.boolean().default(false),
  debounceMs: ms(10_000).default(50),
});

export const ConfigSchema = z.strictObject({
  device: z.strictObject({
    /** Where keys, credentials, bundles and the proof journal live (mode 0700). */
    dataDir: path,
    /** Device id; normally assigned by the fleet server at enrolment. */
    id: id.optional(),
    /** Administrative unit path, e.g. "08/02500"; normally from enrolment. */
    unit: unitPath.optional(),
    groups: z.array(id).max(64).default([]),
    name: z.string().max(200).optional(),
    /** The reboot command reboots the board (systemctl reboot); otherwise the agent restarts. */
    allowReboot: z.boolean().default(false),
  }),
  fleet: z
    .strictObject({
      /** Absent: taken from the provisioning file (the image's default config names only the file). */
      url: z.url({ protocol: /^https?$/, error: 'phải là địa chỉ http(s)://' }).optional(),
      /** One-time enrolment token (prefer a provisioning file, which is rewritten without it). */
      enrolmentToken: z.string().min(8).max(512).optional(),
      provisioningFile: path.optional(),
      healthIntervalS: z.number().int().min(5).max(3600).default(60),
      /** The server's TLS key pin, "sha256/<base64>" (else the provisioning file's fleetTlsPin). */
      tlsPin: z
        .string()
        .regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'ghim TLS có dạng "sha256/" và 44 ký tự base64')
        .optional(),
      /** Overrides the MQTT address the server gives at enrolment (e.g. a LAN broker). */
      mqttUrl: z
        .url({ protocol: /^(mqtts?|wss?)$/, error: 'phải là địa chỉ mqtt(s):// hoặc ws(s)://' })
        .optional(),
    })
    .optional(),
  trust: z.strictObject({
    /** Pinned root public keys (SPKI PEM files) from the image or provisioning. */
    rootKeys: z.array(path).min(1, { error: 'cần ít nhất một khoá gốc' }),
    threshold: z.number().int().min(1).default(1),
  }),
  hardware: z.strictObject({
    gpio: z.strictObject({ driver, sysfsRoot: path.optional() }).default({ driver: 'sim' }),
    amplifier: z.strictObject({
      pin,
      activeLow: z.boolean().default(false),
      warmupMs: ms(60_000).default(2000),
      idleTailMs: ms(3_600_000).default(10_000),
    }),
    /** Zone relays by zone name (names used by schedule entries). */
    zones: z.record(id, relay).default({}),
    inputSelect: z.strictObject({ fm: relay.optional(), line: relay.optional() }).default({}),
    mute: relay.optional(),
    inputs: z
      .strictObject({ mains: input.optional(), door: input.optional(), ampFault: input.optional() })
      .default({}),
    modem: z
      .strictObject({
        driver: optionalDriver,
        path: path.optional(),
        baudRate: z.number().int().min(1200).max(4_000_000).default(115_200),
        powerPin: pin.optional(),
        pollIntervalS: z.number().int().min(5).max(3600).default(60),
      })
      .default({ driver: 'none', baudRate: 115_200, pollIntervalS: 60 }),
    fm: z
      .strictObject({
        driver: optionalDriver,
        path: path.optional(),
        baudRate: z.number().int().min(1200).max(4_000_000).default(9600),
        frequencyMHz: z.number().min(87).max(108).optional(),
      })
      .default({ driver: 'none', baudRate: 9600 }),
  }),
  audio: z
    .strictObject({
      driver,
      output: z.discriminatedUnion(
        'type',
        [
          z.strictObject({ type: z.literal('alsa'), device: z.string().min(1).default('default') }),
          z.strictObject({ type: z.literal('wav'), path }),
          z.strictObject({ type: z.literal('null') }),
        ],
        { error: 'output.type phải là "alsa", "wav" hoặc "null"' },
      ),
      /** Capture devices for the FM module's audio and the line input (ffmpeg -f/-i), e.g. alsa hw:1,0. */
      inputs: z
        .strictObject({
          fm: z
            .strictObject({ format: z.string().min(1).default('alsa'), device: z.string().min(1) })
            .optional(),
          line: z
            .strictObject({ format: z.string().min(1).default('alsa'), device: z.string().min(1) })
            .optional(),
        })
        .default({}),
      /**
       * The output's start-up delay (ms) to assume until the player has learnt it (it learns it
       * from every held start and keeps it in the data directory): the first item after the
       * first boot then starts on time too. Measure it once per board model.
       */
      outputDelayMs: ms(2000).optional(),
      /**
       * Keep one ffmpeg process started and waiting at all times (idle included), so an
       * emergency's chime or audio goes into a running process instead of waiting for one to
       * start (0.1–0.5 s on a small board). It waits blocked on its input: no CPU, 47 MB RSS of
       * which 9 MB its own (docs/audio-and-schedule.md). Off: one waits only while something
       * plays and from an emergency message's arrival.
       */
      warmDecoder: z.boolean().default(true),
      /** Live relays: switch to the fallback after this long failing or silent. */
      streamRelay: z
        .strictObject({
          failoverS: z.number().int().min(1).max(600).default(10),
          silenceS: z.number().int().min(1).max(600).default(8),
          fallback: z.enum(['fm', 'line', 'none']).default('none'),
        })
        .default({ failoverS: 10, silenceS: 8, fallback: 'none' }),
      /**
       * What the line output feeds: "loudspeaker" (default, no processing), "fm-exciter" (FM
       * transmitter: pre-emphasis, 15 kHz low-pass, limiter) or "wired-line" (old wired
       * amplifier: 150 Hz–7 kHz, limiter). See config-output.ts and docs/legacy-output.md.
       */
      profile: OutputProfileSchema.default({ ...OUTPUT_PROFILE_DEFAULTS.loudspeaker }),
    })
    .default({
      driver: 'sim',
      output: { type: 'null' },
      inputs: {},
      warmDecoder: true,
      streamRelay: { failoverS: 10, silenceS: 8, fallback: 'none' },
      profile: { ...OUTPUT_PROFILE_DEFAULTS.loudspeaker },
    }),
  station: z
    .strictObject({
      utcOffset: z
        .string()
        .regex(/^[+-](0[0-9]|1[0-4]):[0-5][0-9]$/, { error: 'phải là độ lệch giờ dạng +07:00' })
        .default('+07:00'),
      /** Quiet hours of this station (only emergencies play), on top of the bundles'. */
      quietHours: z
        .array(z.strictObject({ start: timeOfDay, end: timeOfDay }))
        .max(8)
        .default([]),
      volume: volume.default(80),
      volumeWindows: z
        .array(z.strictObject({ start: timeOfDay, end: timeOfDay, volume }))
        .max(24)
        .default([]),
      /**
       * Attention chime before emergency audio: a local audio file, or a generated tone
       * (toneHz), played for durationMs (the length of the file).
       */
      emergencyChime: z
        .strictObject({
          file: path.optional(),
          toneHz: z
            .number({ error: 'phải là tần số 50–8000 Hz' })
            .int({ error: 'phải là tần số 50–8000 Hz' })
            .min(50, { error: 'phải là tần số 50–8000 Hz' })
            .max(8000, { error: 'phải là tần số 50–8000 Hz' })
            .optional(),
          durationMs: ms(30_000).refine((v) => v >= 100, { error: 'phải từ 100 đến 30000 mili-giây' }),
        })
        .refine((c) => (c.file === undefined) !== (c.toneHz === undefined), {
          error: 'cần đúng một trong hai: file (tệp âm thanh) hoặc toneHz (âm tạo ra)',
        })
        .optional(),
    })
    .default({ utcOffset: '+07:00', quietHours: [], volume: 80, volumeWindows: [] }),
  technician: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Bind address: a LAN address, or 0.0.0.0 (non-private peers are refused anyway). */
      listen: z.string().min(1).default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** scrypt hash from `npm run agent -- --hash-password`; may also come from the provisioning file. */
      passwordHash: z.string().max(512).optional(),
    })
    .default({ enabled: false, listen: '127.0.0.1', port: 8080 }),
  /**
   * Self-update (agent releases signed under the `release` role): where releases are installed
   * (the directory the release supervisor reads) and the image's factory release. Absent: the
   * station does not update itself.
   */
  update: z
    .strictObject({
      releasesDir: path,
      factoryDir: path,
      /** Starts a new release gets before the supervisor rolls it back. */
      maxStarts: z.number().int().min(1).max(20).default(3),
    })
    .optional(),
  /** USB sticks: bundle tars under this directory (where loa-usb@.service mounts sticks) are imported. */
  usb: z.strictObject({ dir: path, pollS: z.number().min(0.2).max(60).default(2) }).optional(),
  /** A noticeboard's screen (kiosk page, browser, screen power); absent: no screen. */
  display: DisplayConfigSchema.optional(),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
});
export type AgentConfig = z.infer<typeof ConfigSchema>;

const vi = z.locales.vi();

/** One line per problem: `path: message`, in Vietnamese. */
export function describeConfigIssues(error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys)
        out.push(`${where ? `${where}.` : ''}${k}: khoá không được hỗ trợ (kiểm tra chính tả)`);
      continue;
    }
    out.push(`${where || '(tệp cấu hình)'}: ${issue.message}`);
  }
  return out;
}

/** Validates a parsed config object; relative paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string): AgentConfig {
  const r = ConfigSchema.safeParse(raw, { error: vi.localeError });
  if (!r.success) {
    const errors = describeConfigIssues(r.error);
    throw new LoaError('CONFIG_INVALID', `Cấu hình không hợp lệ:\n  - ${errors.join('\n  - ')}`, {
      details: { errors },
    });
  }
  const c = r.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  c.device.dataDir = abs(c.device.dataDir);
  c.trust.rootKeys = c.trust.rootKeys.map(abs);
  if (c.fleet?.provisioningFile) c.fleet.provisioningFile = abs(c.fleet.provisioningFile);
  if (c.usb) c.usb.dir = abs(c.usb.dir);
  if (c.update) {
    c.update.releasesDir = abs(c.update.releasesDir);
    c.update.factoryDir = abs(c.update.factoryDir);
  }
  if (c.audio.output.type === 'wav') c.audio.output.path = abs(c.audio.output.path);
  if (c.station.emergencyChime?.file) c.station.emergencyChime.file = abs(c.station.emergencyChime.file);
  return c;
}

/** Reads and validates the config file. Errors: CONFIG_UNREADABLE, CONFIG_INVALID. */
export async function loadConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LoaError('CONFIG_UNREADABLE', `Không đọc được tệp cấu hình ${file}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new LoaError(
      'CONFIG_INVALID',
      `Tệp cấu hình ${file} không phải JSON hợp lệ: ${(cause as Error).message}`,
      { cause, details: { errors: [`(tệp cấu hình): không phải JSON hợp lệ`] } },
    );
  }
  return parseConfig(raw, dirname(resolve(file)));
}
