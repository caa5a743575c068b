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
  args: 'FILE...',
  minArgs: 1,
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
    const out = str(values, 'out') as string;
    const manifest = await buildBundleDir(resolve(io.cwd, out), {
      files,
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
        items: items.map((it, i) => ({
          ...it,
          blob: { sha256: blobs[i]?.sha256, size: blobs[i]?.size, mediaType: kinds[i]?.mediaType },
        })),
        ...(schedule ? { schedule } : {}),
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
