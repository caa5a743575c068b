import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { BUNDLE_FORMAT, LoaError, PrioritySchema, UnitPathSchema, UtcOffsetSchema } from '@loa/protocol';
import { buildBundleDir, kindForMediaType, mediaTypeForPath } from '@loa/protocol/fs';
import { readText } from './commands-keys.js';
import { itemIdFromName, probeDurationMs } from './media-probe.js';
import {
  type CommandSpec,
  type Io,
  instant,
  integer,
  list,
  str,
  tr,
  UsageError,
  type Values,
} from './spec.js';

const DAY_MS = 86_400_000;

export const bundleBuild: CommandSpec = {
  name: 'bundle build',
  summary: {
    vi: 'tạo thư mục gói nội dung chưa ký từ các tệp âm thanh, hình ảnh, video, văn bản',
    en: 'build an unsigned bundle directory from audio, image, video and text files',
  },
  args: '[FILE...]',
  minArgs: 0,
  maxArgs: 1000,
  options: {
    out: {
      type: 'string',
      value: 'DIR',
      required: true,
      help: { vi: 'thư mục gói (chưa có hoặc rỗng)', en: 'bundle directory (absent or empty)' },
    },
    channel: {
      type: 'string',
      value: 'C',
      required: true,
      help: { vi: 'kênh, ví dụ main', en: 'channel, e.g. main' },
    },
    version: {
      type: 'string',
      value: 'N',
      required: true,
      help: {
        vi: 'phiên bản (số nguyên, tăng dần theo kênh)',
        en: 'version (integer, increasing per channel)',
      },
    },
    target: {
      type: 'string',
      multiple: true,
      value: 'CODE',
      required: true,
      help: {
        vi: 'địa bàn nhận, ví dụ 08/02500 (lặp lại được)',
        en: 'target unit path, e.g. 08/02500 (repeatable)',
      },
    },
    expires: {
      type: 'string',
      value: 'ISO',
      help: { vi: 'hạn của gói (mặc định: 30 ngày)', en: 'expiry (default: 30 days)' },
    },
    created: {
      type: 'string',
      value: 'ISO',
      help: { vi: 'thời điểm tạo (mặc định: bây giờ)', en: 'creation instant (default: now)' },
    },
    schedule: {
      type: 'string',
      value: 'FILE',
      help: {
        vi: 'tệp JSON: mảng lịch phát, hoặc { "schedule": [...], "quietHours": [...] }',
        en: 'JSON file: an array of schedule entries, or { "schedule": [...], "quietHours": [...] }',
      },
    },
    priority: {
      type: 'string',
      value: 'P',
      help: {
        vi: 'normal | priority | emergency (mặc định normal)',
        en: 'normal | priority | emergency (default normal)',
      },
    },
    title: {
      type: 'string',
      value: 'TEXT',
      help: { vi: 'tiêu đề mục (mặc định: tên tệp)', en: 'item title (default: file name)' },
    },
    lang: {
      type: 'string',
      value: 'TAG',
      help: { vi: 'ngôn ngữ BCP 47 (mặc định vi)', en: 'BCP 47 language (default vi)' },
    },
    id: {
      type: 'string',
      value: 'ID',
      help: { vi: 'mã gói (mặc định KÊNH-vN)', en: 'bundle id (default CHANNEL-vN)' },
    },
    'utc-offset': {
      type: 'string',
      value: '±HH:MM',
      help: { vi: 'múi giờ của lịch (mặc định +07:00)', en: 'schedule UTC offset (default +07:00)' },
    },
    description: { type: 'string', value: 'TEXT', help: { vi: 'mô tả gói', en: 'bundle description' } },
    stream: {
      type: 'string',
      multiple: true,
      value: 'URL',
      help: {
        vi: 'mục tiếp sóng luồng trực tiếp (Icecast/HTTP MP3, Opus, HLS); cần khóa vai trò live',
        en: 'live stream relay item (Icecast/HTTP MP3, Opus, HLS); needs a live-role key',
      },
    },
    'stream-format': {
      type: 'string',
      value: 'F',
      help: { vi: 'định dạng luồng: mp3 | aac | ogg | hls', en: 'stream container: mp3 | aac | ogg | hls' },
    },
    fm: {
      type: 'string',
      multiple: true,
      value: 'MHZ',
      help: {
        vi: 'mục tiếp sóng FM qua mô-đun FM của đài, ví dụ 98.7',
        en: "FM relay item through the station's FM module, e.g. 98.7",
      },
    },
    'fm-level': {
      type: 'string',
      value: 'N',
      help: { vi: 'mức âm lượng mô-đun FM 0–15', en: 'FM module level 0–15' },
    },
    'live-minutes': {
      type: 'string',
      value: 'N',
      help: {
        vi: 'thời lượng mục tiếp sóng, phút (hết giờ là dừng, kể cả khi nguồn còn phát)',
        en: 'length of relay items in minutes (they end on time even if the source runs over)',
      },
    },
    'fallback-fm': {
      type: 'string',
      value: 'MHZ',
      help: {
        vi: 'dự phòng khi luồng lỗi: tần số FM',
        en: 'fallback when the stream fails: an FM frequency',
      },
    },
    'fallback-file': {
      type: 'string',
      value: 'FILE',
      help: {
        vi: 'dự phòng tiếp theo: bản ghi âm lưu sẵn trên đài',
        en: 'next fallback: a recording cached on the station',
      },
    },
    'display-seconds': {
      type: 'string',
      value: 'N',
      help: {
        vi: 'thời gian hiển thị ảnh/văn bản trên bảng tin, giây',
        en: 'how long images and text stay on a noticeboard, seconds',
      },
    },
    issuer: {
      type: 'string',
      value: 'TEXT',
      help: {
        vi: 'cơ quan ban hành in dưới bản tin văn bản, ví dụ "UBND xã Tân Trào"',
        en: 'issuing body printed under text bulletins, e.g. "UBND xã Tân Trào"',
      },
    },
    dated: {
      type: 'string',
      value: 'YYYY-MM-DD',
      help: { vi: 'ngày in dưới bản tin văn bản', en: 'date printed under text bulletins' },
    },
    ticker: {
      type: 'boolean',
      help: {
        vi: 'các tệp văn bản là dòng chữ chạy của bảng tin (không chiếm màn hình chính)',
        en: 'text files are noticeboard ticker lines (not main-area bulletins)',
      },
    },
  },
  examples: [
    'loa bundle build --out bundles/sang --channel main --version 7 --target 08/02500 --schedule lich.json ban-tin-sang.mp3',
    'loa bundle build --out bundles/bao --channel canh-bao --version 1 --priority emergency --target 08 --title "Cảnh báo lũ" lu.mp3',
    'loa bundle build --out bundles/bang-tin --channel bang-tin --version 3 --target 08/02503 --display-seconds 20 --issuer "UBND xã Tân Trào" --dated 2026-12-07 --title "Lịch tiêm chủng" lich-tiem.txt anh.png',
    'loa bundle build --out bundles/vov --channel tiep-song --version 3 --target 08/02500 --schedule lich.json --stream http://radio.example/vov1.mp3 --stream-format mp3 --live-minutes 30 --fallback-fm 96.5 --fallback-file ban-tin-du-phong.mp3',
  ],
  async run({ values, positionals, io }) {
    const cmd = 'bundle build';
    const channel = str(values, 'channel') as string;
    const version = integer(io, values, 'version', cmd) as number;
    const created = instant(io, values, 'created', cmd) ?? io.now();
    const expires = instant(io, values, 'expires', cmd) ?? new Date(created.getTime() + 30 * DAY_MS);
    const priority = str(values, 'priority') ?? 'normal';
    if (!PrioritySchema.safeParse(priority).success)
      throw usage(io, cmd, `--priority: normal | priority | emergency ("${priority}")`);
    const offset = str(values, 'utc-offset') ?? '+07:00';
    if (!UtcOffsetSchema.safeParse(offset).success)
      throw usage(io, cmd, `--utc-offset: ±HH:MM ("${offset}")`);
    const targets = list(values, 'target');
    for (const t of targets)
      if (!UnitPathSchema.safeParse(t).success)
        throw usage(
          io,
          cmd,
          tr(io, {
            vi: `--target "${t}": cần mã địa bàn dạng 08/02500`,
            en: `--target "${t}": expected a unit path like 08/02500`,
          }),
        );
    const files = positionals.map((p) => resolve(io.cwd, p));
    const kinds = files.map((f, i) => {
      const mediaType = mediaTypeForPath(f);
      const kind = mediaType ? kindForMediaType(mediaType) : undefined;
      if (!mediaType || !kind)
        throw usage(
          io,
          cmd,
          tr(io, {
            vi: `không nhận ra loại tệp: ${positionals[i]}`,
            en: `unknown file type: ${positionals[i]}`,
          }),
        );
      return { mediaType, kind };
    });
    for (const [i, f] of files.entries()) {
      const st = await stat(f).catch(() => undefined);
      if (!st?.isFile())
        throw new LoaError(
          'FILE_UNREADABLE',
          tr(io, { vi: `không đọc được tệp ${positionals[i]}`, en: `cannot read ${positionals[i]}` }),
        );
    }
    const display = integer(io, values, 'display-seconds', cmd);
    if (display !== undefined && display > 86_400)
      throw usage(
        io,
        cmd,
        tr(io, { vi: '--display-seconds tối đa 86400', en: '--display-seconds is at most 86400' }),
      );
    const durations = await Promise.all(
      files.map((f, i) =>
        kinds[i]?.kind === 'audio' || kinds[i]?.kind === 'video'
          ? probeDurationMs(f)
          : display !== undefined
            ? display * 1000
            : undefined,
      ),
    );
    const issuer = str(values, 'issuer');
    if (issuer !== undefined && (issuer.trim() === '' || issuer.length > 200))
      throw usage(io, cmd, tr(io, { vi: '--issuer: 1–200 ký tự', en: '--issuer: 1–200 characters' }));
    const dated = str(values, 'dated');
    if (dated !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(dated) || Number.isNaN(Date.parse(dated))))
      throw usage(
        io,
        cmd,
        tr(io, {
          vi: `--dated: ngày dạng YYYY-MM-DD ("${dated}")`,
          en: `--dated: a date YYYY-MM-DD ("${dated}")`,
        }),
      );
    // a text file's words go into the manifest: the board prints them (the file stays as the blob)
    const texts = await Promise.all(
      files.map((f, i) =>
        kinds[i]?.kind === 'text' ? readBulletin(f, positionals[i] as string, io) : undefined,
      ),
    );
    const sched = await readSchedule(io, values);
    const ids = uniqueIds(files.map((f) => itemIdFromName(basename(f))));
    const title = str(values, 'title');
    const items = files.map((f, i) => ({
      id: ids[i] as string,
      title: title
        ? files.length > 1
          ? `${title} (${i + 1}/${files.length})`
          : title
        : basename(f).replace(/\.[^.]*$/, '') || basename(f),
      kind: kinds[i]?.kind,
      priority,
      lang: str(values, 'lang') ?? 'vi',
      ...(durations[i] ? { durationMs: durations[i] } : {}),
      ...(texts[i] !== undefined
        ? {
            text: texts[i],
            ...(values.ticker === true ? { category: 'ticker' } : {}),
            ...(issuer ? { issuer: issuer.trim().normalize('NFC') } : {}),
            ...(dated ? { dated } : {}),
          }
        : {}),
    }));
    const schedule = sched.schedule?.map((e) =>
      typeof e === 'object' && e && !('items' in e) ? { ...e, items: ids } : e,
    );
    const live = liveItems(io, values, cmd, priority, str(values, 'lang') ?? 'vi', title);
    if (files.length === 0 && live.items.length === 0)
      throw usage(
        io,
        cmd,
        tr(io, {
          vi: 'cần ít nhất một tệp, --stream hoặc --fm',
          en: 'expected at least one file, --stream or --fm',
        }),
      );
    const fallbackFile = str(values, 'fallback-file');
    const fallbackPath = fallbackFile ? resolve(io.cwd, fallbackFile) : undefined;
    const fallbackType = fallbackPath ? mediaTypeForPath(fallbackPath) : undefined;
    if (fallbackPath && (!fallbackType || kindForMediaType(fallbackType) !== 'audio'))
      throw usage(
        io,
        cmd,
        tr(io, {
          vi: `--fallback-file phải là tệp âm thanh: ${fallbackFile}`,
          en: `--fallback-file must be an audio file: ${fallbackFile}`,
        }),
      );
    if (fallbackPath && !(await stat(fallbackPath).catch(() => undefined))?.isFile())
      throw new LoaError(
        'FILE_UNREADABLE',
        tr(io, { vi: `không đọc được tệp ${fallbackFile}`, en: `cannot read ${fallbackFile}` }),
      );
    const liveIds = new Set(live.items.map((it) => it.id));
    const allIds = [...ids, ...live.items.map((it) => it.id)];
    const scheduleAll = sched.schedule?.map((e) =>
      typeof e === 'object' && e && !('items' in e) ? { ...e, items: allIds } : e,
    );
    const out = str(values, 'out') as string;
    const manifest = await buildBundleDir(resolve(io.cwd, out), {
      files: fallbackPath ? [...files, fallbackPath] : files,
      manifest: (blobs) => ({
        type: 'loa-bundle',
        format: BUNDLE_FORMAT,
        id: str(values, 'id') ?? `${channel}-v${version}`,
        channel,
        version,
        created: created.toISOString(),
        expires: expires.toISOString(),
        utcOffset: offset,
        targets: targets.map((unit) => ({ unit })),
        items: [
          ...items.map((it, i) => ({
            ...it,
            blob: { sha256: blobs[i]?.sha256, size: blobs[i]?.size, mediaType: kinds[i]?.mediaType },
          })),
          ...live.items.map((it) => {
            const fallback: unknown[] = [];
            if (it.kind === 'stream' && live.fallbackFm !== undefined)
              fallback.push({ type: 'fm', frequencyMHz: live.fallbackFm });
            const rec = fallbackPath ? blobs[files.length] : undefined;
            if (rec)
              fallback.push({
                type: 'recording',
                blob: { sha256: rec.sha256, size: rec.size, mediaType: fallbackType },
              });
            return fallback.length ? { ...it, relay: { fallback } } : it;
          }),
        ],
        ...(scheduleAll && liveIds.size ? { schedule: scheduleAll } : schedule ? { schedule } : {}),
        ...(sched.quietHours ? { quietHours: sched.quietHours } : {}),
        ...(str(values, 'description') ? { description: str(values, 'description') } : {}),
      }),
    });
    io.out(
      `${out} ${manifest.id} v${manifest.version} ${tr(io, { vi: 'mục', en: 'items' })}=${manifest.items.length} ${tr(io, { vi: '(chưa ký)', en: '(unsigned)' })}`,
    );
    return 0;
  },
};

/** The words of a text bulletin file: UTF-8, NFC, at most 20,000 characters. */
async function readBulletin(path: string, shown: string, io: Io): Promise<string> {
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new LoaError(
      'TEXT_NOT_UTF8',
      tr(io, { vi: `${shown} không phải văn bản UTF-8`, en: `${shown} is not UTF-8 text` }),
      { cause },
    );
  }
  text = text
    .replace(/^\uFEFF/, '')
    .normalize('NFC')
    .trim();
  if (text === '')
    throw new LoaError('TEXT_EMPTY', tr(io, { vi: `${shown} trống`, en: `${shown} is empty` }));
  if (text.length > 20_000)
    throw new LoaError(
      'TEXT_TOO_LONG',
      tr(io, {
        vi: `${shown} dài ${text.length} ký tự, tối đa 20000`,
        en: `${shown} has ${text.length} characters, at most 20000`,
      }),
    );
  return text;
}

interface LiveItem {
  id: string;
  title: string;
  kind: 'stream' | 'fm';
  priority: string;
  lang: string;
  url?: string;
  format?: string;
  fm?: { frequencyMHz: number; level?: number };
  durationMs?: number;
}

function frequency(io: Io, cmd: string, opt: string, v: string): number {
  const n = Number(v);
  if (!/^\d{2,3}(\.\d{1,2})?$/.test(v) || !(n >= 87 && n <= 108))
    throw usage(
      io,
      cmd,
      tr(io, {
        vi: `--${opt} "${v}": cần tần số FM 87–108 MHz, ví dụ 98.7`,
        en: `--${opt} "${v}": expected an FM frequency 87–108 MHz, e.g. 98.7`,
      }),
    );
  return n;
}

/** Relay items from --stream and --fm, with the fallback FM of --fallback-fm. */
function liveItems(
  io: Io,
  values: Values,
  cmd: string,
  priority: string,
  lang: string,
  title: string | undefined,
): { items: LiveItem[]; fallbackFm?: number } {
  const minutes = integer(io, values, 'live-minutes', cmd);
  if (minutes !== undefined && (minutes < 1 || minutes > 1440))
    throw usage(io, cmd, tr(io, { vi: '--live-minutes từ 1 đến 1440', en: '--live-minutes is 1 to 1440' }));
  const format = str(values, 'stream-format');
  if (format !== undefined && !['mp3', 'aac', 'ogg', 'hls'].includes(format))
    throw usage(io, cmd, `--stream-format: mp3 | aac | ogg | hls ("${format}")`);
  const level = integer(io, values, 'fm-level', cmd);
  if (level !== undefined && (level < 0 || level > 15))
    throw usage(io, cmd, tr(io, { vi: '--fm-level từ 0 đến 15', en: '--fm-level is 0 to 15' }));
  const base = { priority, lang, ...(minutes !== undefined ? { durationMs: minutes * 60_000 } : {}) };
  const items: LiveItem[] = [];
  list(values, 'stream').forEach((url, i, all) => {
    if (!/^https?:\/\/[^\s]+$/.test(url))
      throw usage(
        io,
        cmd,
        tr(io, {
          vi: `--stream "${url}": cần địa chỉ http(s)`,
          en: `--stream "${url}": expected an http(s) URL`,
        }),
      );
    items.push({
      ...base,
      id: all.length > 1 ? `stream-${i + 1}` : 'stream',
      title: title ?? `Tiếp sóng ${new URL(url).host}`,
      kind: 'stream',
      url,
      ...(format ? { format } : {}),
    });
  });
  for (const v of list(values, 'fm')) {
    const mhz = frequency(io, cmd, 'fm', v);
    items.push({
      ...base,
      id: `fm-${v.replace('.', '-')}`,
      title: title ?? `Tiếp sóng FM ${mhz.toFixed(1)} MHz`,
      kind: 'fm',
      fm: { frequencyMHz: mhz, ...(level !== undefined ? { level } : {}) },
    });
  }
  const fb = str(values, 'fallback-fm');
  return { items, ...(fb !== undefined ? { fallbackFm: frequency(io, cmd, 'fallback-fm', fb) } : {}) };
}

function usage(_io: Io, cmd: string, message: string): UsageError {
  return new UsageError(message, cmd);
}

function uniqueIds(ids: string[]): string[] {
  const seen = new Map<string, number>();
  return ids.map((id) => {
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return n === 1 ? id : `${id}-${n}`;
  });
}

async function readSchedule(
  io: Io,
  values: Values,
): Promise<{ schedule?: unknown[]; quietHours?: unknown[] }> {
  const path = str(values, 'schedule');
  if (!path) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(await readText(io, path));
  } catch (cause) {
    if (cause instanceof LoaError) throw cause;
    throw new LoaError(
      'SCHEDULE_INVALID',
      tr(io, { vi: `${path} không phải JSON hợp lệ`, en: `${path} is not valid JSON` }),
      { cause },
    );
  }
  if (Array.isArray(doc)) return { schedule: doc };
  if (doc && typeof doc === 'object') {
    const o = doc as { schedule?: unknown; quietHours?: unknown };
    if (
      (o.schedule === undefined || Array.isArray(o.schedule)) &&
      (o.quietHours === undefined || Array.isArray(o.quietHours))
    )
      return {
        ...(o.schedule ? { schedule: o.schedule as unknown[] } : {}),
        ...(o.quietHours ? { quietHours: o.quietHours as unknown[] } : {}),
      };
  }
  throw new LoaError(
    'SCHEDULE_INVALID',
    tr(io, {
      vi: `${path}: cần một mảng lịch phát hoặc { "schedule": [...], "quietHours": [...] }`,
      en: `${path}: expected an array of entries or { "schedule": [...], "quietHours": [...] }`,
    }),
  );
}
