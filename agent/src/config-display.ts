/**
 * The `display` section of the agent config (noticeboards): the kiosk page, its browser, the
 * screen. Absent: the station has no screen. Error messages in Vietnamese like config.ts.
 */
import { z } from 'zod';

const timeOfDay = z
  .string({ error: 'phải là giờ dạng HH:MM' })
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: 'phải là giờ dạng HH:MM (00:00–23:59)' });
const path = z.string({ error: 'phải là đường dẫn tệp' }).min(1, { error: 'không được để trống' });
const int = (min: number, max: number) =>
  z
    .number({ error: `phải là số nguyên ${min}–${max}` })
    .int({ error: `phải là số nguyên ${min}–${max}` })
    .min(min, { error: `phải là số nguyên ${min}–${max}` })
    .max(max, { error: `phải là số nguyên ${min}–${max}` });

/** Debian's fonts-dejavu-core: DejaVu Sans covers the whole Vietnamese alphabet. */
export const DEFAULT_FONTS = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
};

export const DisplayConfigSchema = z.strictObject({
  /** Kiosk server port on 127.0.0.1 (the page, /kiosk/now). */
  port: int(0, 65535).default(8090),
  layout: z
    .enum(['zone', 'fullscreen'], { error: 'phải là "zone" (chia vùng) hoặc "fullscreen"' })
    .default('zone'),
  /** Name printed in the header and under bulletins, e.g. "UBND xã Sơn Dương". */
  unitName: z.string().min(1).max(200).default('Bảng tin điện tử'),
  fonts: z.strictObject({ regular: path, bold: path }).default(DEFAULT_FONTS),
  /** Display time of an item that carries no duration, in seconds. */
  defaultItemS: int(1, 3600).default(10),
  /** Videos play with their sound (otherwise muted). */
  videoSound: z.boolean().default(false),
  /** Ticker speed, CSS pixels per second. */
  tickerSpeed: int(20, 1000).default(120),
  /** Smallest body text before a bulletin is paginated (CSS pixels). */
  minFontPx: int(12, 200).default(30),
  browser: z
    .strictObject({
      driver: z.enum(['chromium', 'sim'], { error: 'phải là "chromium" hoặc "sim"' }).default('chromium'),
      /** spawn: the agent starts Chromium; attach: loa-kiosk.service runs it (cage). */
      mode: z.enum(['spawn', 'attach']).default('spawn'),
      executable: path.default('/usr/bin/chromium'),
      headless: z.boolean().default(false),
      width: int(320, 7680).default(1920),
      height: int(240, 4320).default(1080),
      devtoolsPort: int(0, 65535).optional(),
      restartCommand: z.array(z.string().min(1)).max(16).optional(),
    })
    .default({
      driver: 'chromium',
      mode: 'spawn',
      executable: '/usr/bin/chromium',
      headless: false,
      width: 1920,
      height: 1080,
    }),
  screen: z
    .strictObject({
      power: z.enum(['auto', 'cec', 'wlr-randr', 'none']).default('auto'),
      /** wlr-randr output name. */
      output: z.string().min(1).max(64).optional(),
      /** Screen on between these local times (absent: always on); always on in an emergency. */
      hours: z.strictObject({ on: timeOfDay, off: timeOfDay }).optional(),
    })
    .default({ power: 'auto' }),
  watchdog: z
    .strictObject({
      heartbeatS: int(3, 600).default(15),
      stuckS: int(3, 600).default(10),
      startGraceS: int(5, 600).default(30),
    })
    .default({ heartbeatS: 15, stuckS: 10, startGraceS: 30 }),
  /** Screenshots uploaded to the fleet server (on a signed command, and periodically if set). */
  screenshots: z
    .strictObject({
      /** JPEG is a tenth of a PNG's size over 4G; PNG is lossless. */
      format: z.enum(['jpeg', 'png'], { error: 'phải là "jpeg" hoặc "png"' }).default('jpeg'),
      quality: int(30, 100).default(75),
      /** Upload one every this many seconds (absent: only on command). */
      everyS: int(60, 86_400).optional(),
    })
    .default({ format: 'jpeg', quality: 75 }),
});
export type DisplayConfig = z.infer<typeof DisplayConfigSchema>;
