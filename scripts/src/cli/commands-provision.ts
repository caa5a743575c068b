/**
 * `loa provision`: from a CSV of stations and enrolment tokens (made on the fleet server with a
 * technician's API token, or read from a file), one provisioning file per station and a label
 * sheet (PDF) with a QR code per cabinet door. All or nothing: every CSV line is checked before
 * anything is made, the files appear together (a staging directory renamed into place), and
 * tokens made on the server for a run that then fails are revoked.
 */
import { readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoaError, type ProvisioningFile, ProvisioningFileSchema, TlsPinSchema } from '@loa/protocol';
import { fsyncDir, makeStagingDir, writeJsonAtomic } from '@loa/protocol/fs';
import { labelSheet, PER_PAGE } from '../provision/labels-pdf.js';
import { parseStations, StationCsvError, type StationRow } from '../provision/stations.js';
import { createServerTokens, readTokenFile } from '../provision/tokens.js';
import { type CommandSpec, integer, str, tr, UsageError } from './spec.js';

/** images/profiles beside the repository's scripts (same path from src/ and dist/). */
const DEFAULT_PROFILES = fileURLToPath(new URL('../../../images/profiles/', import.meta.url));

async function knownProfiles(dir: string, explicit: boolean): Promise<Set<string> | undefined> {
  try {
    return new Set((await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')));
  } catch (cause) {
    if (explicit)
      throw new LoaError('PROFILES_NOT_FOUND', `không đọc được thư mục cấu hình phần cứng ${dir}`, { cause });
    return undefined;
  }
}

async function readSecret(path: string, code: string, what: string): Promise<string> {
  try {
    const v = (await readFile(path, 'utf8')).trim();
    if (!v) throw new LoaError(code, `${what} ${path} rỗng`);
    return v;
  } catch (cause) {
    if (cause instanceof LoaError) throw cause;
    throw new LoaError(code, `không đọc được ${what} ${path}`, { cause });
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw e;
  }
}

export const provision: CommandSpec = {
  name: 'provision',
  summary: {
    vi: 'tạo tệp cấp phát cho từng trạm từ danh sách CSV và in trang nhãn có mã QR (PDF)',
    en: 'make a provisioning file per station from a CSV list and a label sheet with QR codes (PDF)',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    stations: {
      type: 'string',
      value: 'FILE.csv',
      required: true,
      help: {
        vi: 'cột: label,unit,latitude,longitude,profile[,station_id][,place]',
        en: 'columns: label,unit,latitude,longitude,profile[,station_id][,place]',
      },
    },
    out: {
      type: 'string',
      value: 'DIR',
      required: true,
      help: { vi: 'thư mục kết quả (chưa có hoặc rỗng)', en: 'output directory (new or empty)' },
    },
    server: {
      type: 'string',
      value: 'URL',
      required: true,
      help: { vi: 'địa chỉ máy chủ điều hành, vd. https://loa.tinh.gov.vn', en: 'fleet server URL' },
    },
    'api-token-file': {
      type: 'string',
      value: 'FILE',
      help: {
        vi: 'tệp chứa mã API của kỹ thuật viên: tạo mã đăng ký trên máy chủ',
        en: "file holding a technician's API token: create enrolment tokens on the server",
      },
    },
    tokens: {
      type: 'string',
      value: 'FILE',
      help: {
        vi: 'hoặc: tệp mã đăng ký có sẵn, mỗi dòng một mã',
        en: 'or: existing enrolment tokens, one per line',
      },
    },
    'ttl-hours': {
      type: 'string',
      value: 'N',
      help: {
        vi: 'hạn dùng mã đăng ký (giờ, mặc định 720 = 30 ngày)',
        en: 'token lifetime in hours (default 720)',
      },
    },
    kind: {
      type: 'string',
      value: 'station|noticeboard',
      help: { vi: 'loại thiết bị (mặc định station)', en: 'device kind (default station)' },
    },
    'tls-pin': {
      type: 'string',
      value: 'sha256/…',
      help: { vi: 'ghim khoá TLS của máy chủ', en: "the server's TLS key pin" },
    },
    apn: {
      type: 'string',
      value: 'APN',
      help: { vi: 'APN của nhà mạng cho modem 4G', en: "the LTE modem's APN" },
    },
    'wifi-ssid': { type: 'string', value: 'SSID', help: { vi: 'mạng Wi-Fi', en: 'Wi-Fi network' } },
    'wifi-psk-file': {
      type: 'string',
      value: 'FILE',
      help: { vi: 'tệp chứa mật khẩu Wi-Fi', en: 'file holding the Wi-Fi password' },
    },
    labels: {
      type: 'string',
      value: 'FILE.pdf',
      help: { vi: 'trang nhãn (mặc định DIR/labels.pdf)', en: 'label sheet (default DIR/labels.pdf)' },
    },
    profiles: {
      type: 'string',
      value: 'DIR',
      help: {
        vi: 'thư mục cấu hình phần cứng (mặc định images/profiles)',
        en: 'hardware profiles (default images/profiles)',
      },
    },
    font: {
      type: 'string',
      value: 'FILE.ttf',
      help: { vi: 'phông chữ TrueType cho nhãn', en: 'TrueType font for labels' },
    },
  },
  examples: [
    'loa provision --stations xa-son-duong.csv --server https://loa.tuyenquang.gov.vn --api-token-file ~/.loa-token --apn v-internet --out the-son-duong',
    'loa provision --stations tram.csv --server https://loa.tuyenquang.gov.vn --tokens ma-dang-ky.txt --out the',
  ],
  async run({ values, io }) {
    const name = 'provision';
    const at = (p: string) => resolve(io.cwd, p);
    const server = str(values, 'server') as string;
    if (!/^https?:\/\/[^\s/]+/.test(server))
      throw new UsageError(
        tr(io, {
          vi: `--server phải là địa chỉ http(s):// (nhận được "${server}")`,
          en: `--server must be an http(s):// URL (got "${server}")`,
        }),
        name,
      );
    const apiTokenFile = str(values, 'api-token-file');
    const tokenFile = str(values, 'tokens');
    if (!apiTokenFile === !tokenFile)
      throw new UsageError(
        tr(io, {
          vi: 'cần đúng một trong --api-token-file hoặc --tokens',
          en: 'give exactly one of --api-token-file or --tokens',
        }),
        name,
      );
    const ttlHours = integer(io, values, 'ttl-hours', name) ?? 720;
    if (ttlHours > 720)
      throw new UsageError(
        tr(io, { vi: '--ttl-hours tối đa 720 (30 ngày)', en: '--ttl-hours is at most 720 (30 days)' }),
        name,
      );
    const kind = str(values, 'kind') ?? 'station';
    if (kind !== 'station' && kind !== 'noticeboard')
      throw new UsageError(
        tr(io, {
          vi: '--kind phải là station hoặc noticeboard',
          en: '--kind must be station or noticeboard',
        }),
        name,
      );
    const pin = str(values, 'tls-pin');
    if (pin && !TlsPinSchema.safeParse(pin).success)
      throw new UsageError(
        tr(io, {
          vi: '--tls-pin phải có dạng sha256/<44 ký tự base64>',
          en: '--tls-pin must be sha256/<44 base64 characters>',
        }),
        name,
      );
    const ssid = str(values, 'wifi-ssid');
    const pskFile = str(values, 'wifi-psk-file');
    if (pskFile && !ssid)
      throw new UsageError(
        tr(io, { vi: '--wifi-psk-file cần --wifi-ssid', en: '--wifi-psk-file needs --wifi-ssid' }),
        name,
      );
    const psk = pskFile
      ? await readSecret(at(pskFile), 'WIFI_PSK_UNREADABLE', 'tệp mật khẩu Wi-Fi')
      : undefined;
    const apn = str(values, 'apn');
    const out = at(str(values, 'out') as string);
    const labelsPath = at(str(values, 'labels') ?? join(out, 'labels.pdf'));
    if (!(await isEmptyOrMissing(out)))
      throw new LoaError(
        'PROVISION_OUT_NOT_EMPTY',
        `thư mục ${out} đã có tệp: chọn thư mục mới để không ghi đè tệp cấp phát cũ`,
      );

    const csvPath = at(str(values, 'stations') as string);
    let csv: string;
    try {
      csv = await readFile(csvPath, 'utf8');
    } catch (cause) {
      throw new LoaError('PROVISION_CSV_NOT_FOUND', `không đọc được danh sách trạm ${csvPath}`, { cause });
    }
    const profilesOpt = str(values, 'profiles');
    const profiles = await knownProfiles(
      profilesOpt ? at(profilesOpt) : DEFAULT_PROFILES,
      profilesOpt !== undefined,
    );
    let rows: StationRow[];
    try {
      rows = parseStations(csv, profiles);
    } catch (e) {
      if (e instanceof StationCsvError) for (const p of e.problems) io.err(`${csvPath}: ${p}`);
      throw e;
    }
    const now = io.now();
    const fileOf = (r: StationRow, token?: string): ProvisioningFile =>
      ProvisioningFileSchema.parse({
        format: 'loa-provision/1',
        fleetUrl: server,
        ...(pin ? { fleetTlsPin: pin } : {}),
        ...(token ? { enrolmentToken: token } : {}),
        stationId: r.stationId,
        unit: r.unit,
        kind,
        label: r.label,
        location: { lat: r.lat, lon: r.lon, ...(r.place ? { place: r.place } : {}) },
        profile: r.profile,
        network: {
          ...(apn ? { apn: { name: apn } } : {}),
          ...(ssid ? { wifi: { ssid, ...(psk ? { psk } : {}) } } : {}),
        },
        createdAt: now.toISOString(),
      });
    try {
      fileOf(rows[0] as StationRow);
    } catch (cause) {
      throw new LoaError(
        'PROVISION_INVALID',
        `tham số không hợp lệ cho tệp cấp phát: ${(cause as Error).message}`,
        { cause },
      );
    }
    const font = str(values, 'font');
    // the label sheet first: it needs no token, and a missing font stops the run before the server is asked
    const pdf = await labelSheet(rows, {
      server,
      title: `Loa — nhãn tủ trạm (${rows.length} trạm, ${now.toISOString().slice(0, 10)})`,
      now,
      ...(font ? { fontPath: at(font) } : {}),
    });
    let tokens: string[];
    let revoke: (() => Promise<void>) | undefined;
    if (tokenFile) tokens = await readTokenFile(at(tokenFile), rows.length);
    else {
      const apiToken = await readSecret(at(apiTokenFile as string), 'API_TOKEN_UNREADABLE', 'tệp mã API');
      io.err(
        tr(io, {
          vi: `đang tạo ${rows.length} mã đăng ký trên ${server}…`,
          en: `creating ${rows.length} enrolment tokens on ${server}…`,
        }),
      );
      const made = await createServerTokens(rows, { server, apiToken, ttlHours, kind });
      tokens = made.map((m) => m.token);
      revoke = () => made.revoke();
    }
    let staging: string | undefined;
    try {
      staging = await makeStagingDir(out);
      for (const [i, r] of rows.entries())
        await writeJsonAtomic(join(staging, `${r.stationId}.json`), fileOf(r, tokens[i]), { mode: 0o600 });
      if (labelsPath.startsWith(`${out}/`))
        await writeFile(join(staging, labelsPath.slice(out.length + 1)), pdf);
      await fsyncDir(staging);
      await rmdir(out).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await rename(staging, out);
      staging = undefined;
      await fsyncDir(resolve(out, '..'));
      if (!labelsPath.startsWith(`${out}/`)) await writeFile(labelsPath, pdf);
    } catch (e) {
      if (staging) await rm(staging, { recursive: true, force: true });
      if (revoke)
        await revoke().catch((r: Error) =>
          io.err(`${tr(io, { vi: 'CẢNH BÁO', en: 'WARNING' })}: ${r.message}`),
        );
      throw e;
    }
    io.out(
      tr(io, {
        vi: `đã tạo ${rows.length} tệp cấp phát trong ${out} và trang nhãn ${labelsPath} (${Math.ceil(rows.length / PER_PAGE)} trang)`,
        en: `made ${rows.length} provisioning files in ${out} and the label sheet ${labelsPath} (${Math.ceil(rows.length / PER_PAGE)} pages)`,
      }),
    );
    io.out(
      tr(io, {
        vi: 'Mỗi tệp chứa một mã đăng ký dùng một lần: giữ kín; ghi vào thẻ bằng loa flash --provision.',
        en: 'Each file holds a one-time enrolment token: keep them private; put one on a card with loa flash --provision.',
      }),
    );
    return 0;
  },
};
