import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  documentDigest,
  type InstalledBundle,
  LoaError,
  UnitPathSchema,
  type VerifyManifestOptions,
} from '@loa/protocol';
import {
  packBundle,
  parseManifestUnverified,
  signBundleDir,
  unpackBundle,
  verifyBundleDir,
  verifyBundleTar,
} from '@loa/protocol/fs';
import { loadVerifiedTrust, readPrivateKey, readText } from './commands-keys.js';
import {
  type CommandSpec,
  type Io,
  instant,
  integer,
  list,
  type OptionSpec,
  str,
  tr,
  UsageError,
  type Values,
} from './spec.js';

function usage(_io: Io, cmd: string, message: string): UsageError {
  return new UsageError(message, cmd);
}

export const bundleSign: CommandSpec = {
  name: 'bundle sign',
  summary: {
    vi: 'thêm một chữ ký vào gói (mỗi người ký chạy một lần)',
    en: 'add one signature to a bundle (once per signer)',
  },
  args: 'DIR',
  minArgs: 1,
  maxArgs: 1,
  options: {
    key: {
      type: 'string',
      value: 'KEY.key',
      required: true,
      help: { vi: 'khóa bí mật của người ký', en: "signer's private key" },
    },
  },
  examples: [
    'loa bundle sign --key keys/editor.key bundles/sang',
    'loa bundle sign --key keys/approver.key bundles/sang',
  ],
  async run({ values, positionals, io }) {
    const key = await readPrivateKey(io, str(values, 'key') as string);
    const { manifest, keyid } = await signBundleDir(await mustExist(io, positionals[0] as string), key);
    io.out(
      `${manifest.id} v${manifest.version} +${keyid.slice(0, 16)}… (${manifest.signatures.length} ${tr(io, { vi: 'chữ ký', en: 'signature(s)' })})`,
    );
    return 0;
  },
};

const verifyOptions: Record<string, OptionSpec> = {
  root: {
    type: 'string',
    multiple: true,
    value: 'ROOT.pub',
    required: true,
    help: {
      vi: 'khóa gốc công khai đã ghim (từ ảnh hệ điều hành/đăng ký)',
      en: 'pinned root public key (from the image or enrolment)',
    },
  },
  trust: {
    type: 'string',
    value: 'trust.json',
    required: true,
    help: { vi: 'chính sách tin cậy', en: 'trust policy' },
  },
  unit: {
    type: 'string',
    value: 'PATH',
    help: { vi: 'địa bàn của thiết bị, ví dụ 08/02500', en: "the device's unit path, e.g. 08/02500" },
  },
  device: {
    type: 'string',
    value: 'ID',
    help: { vi: 'mã thiết bị (cùng --unit)', en: 'device id (with --unit)' },
  },
  group: {
    type: 'string',
    multiple: true,
    value: 'G',
    help: { vi: 'nhóm của thiết bị (cùng --unit)', en: 'device group (with --unit)' },
  },
  now: {
    type: 'string',
    value: 'ISO',
    help: { vi: 'thời điểm kiểm tra (mặc định: bây giờ)', en: 'check at this instant (default: now)' },
  },
};

async function verifyOpts(io: Io, values: Values, cmd: string): Promise<VerifyManifestOptions> {
  const now = instant(io, values, 'now', cmd) ?? io.now();
  const unit = str(values, 'unit');
  if (unit !== undefined && !UnitPathSchema.safeParse(unit).success)
    throw usage(
      io,
      cmd,
      tr(io, {
        vi: `--unit "${unit}": cần mã địa bàn dạng 08/02500`,
        en: `--unit "${unit}": expected a unit path like 08/02500`,
      }),
    );
  if (unit === undefined && (str(values, 'device') || list(values, 'group').length))
    throw usage(
      io,
      cmd,
      tr(io, { vi: '--device và --group cần --unit', en: '--device and --group need --unit' }),
    );
  const installed = await installedBundle(io, values, cmd);
  const trust = await loadVerifiedTrust(io, str(values, 'trust') as string, list(values, 'root'), now);
  const device = str(values, 'device');
  const groups = list(values, 'group');
  return {
    trust,
    now,
    ...(unit
      ? { device: { unit, ...(device ? { deviceId: device } : {}), ...(groups.length ? { groups } : {}) } }
      : {}),
    ...(installed ? { installed } : {}),
  };
}

/**
 * What is installed on the channel: `--installed-manifest FILE` gives version and digest (so a
 * different bundle with the same version is VERSION_CONFLICT); `--installed-version N` the version only.
 */
async function installedBundle(io: Io, values: Values, cmd: string): Promise<InstalledBundle | undefined> {
  const file = str(values, 'installed-manifest');
  if (file) {
    const m = parseManifestUnverified(await readText(io, file));
    return { version: m.version, digest: documentDigest(m) };
  }
  const version = integer(io, values, 'installed-version', cmd, 0);
  return version === undefined ? undefined : { version };
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** A clear FILE_UNREADABLE (in the operator's language) for a path that does not exist. */
async function mustExist(io: Io, shown: string): Promise<string> {
  const path = resolve(io.cwd, shown);
  if (!(await stat(path).catch(() => undefined)))
    throw new LoaError(
      'FILE_UNREADABLE',
      tr(io, { vi: `không có tệp hoặc thư mục ${shown}`, en: `no such file or directory: ${shown}` }),
    );
  return path;
}

export const bundleVerify: CommandSpec = {
  name: 'bundle verify',
  summary: {
    vi: 'kiểm tra chữ ký, hạn, phiên bản, địa bàn và mọi tệp của gói',
    en: "check a bundle's signatures, validity, version, target and every file",
  },
  args: 'DIR|FILE.tar',
  minArgs: 1,
  maxArgs: 1,
  options: {
    ...verifyOptions,
    'installed-version': {
      type: 'string',
      value: 'N',
      help: {
        vi: 'phiên bản đang cài trên kênh: gói phải mới hơn',
        en: 'version installed on the channel: the bundle must be newer',
      },
    },
    'installed-manifest': {
      type: 'string',
      value: 'FILE',
      help: {
        vi: 'manifest đang cài trên kênh: cùng phiên bản mà khác nội dung bị từ chối',
        en: 'manifest installed on the channel: same version with other content is rejected',
      },
    },
  },
  examples: [
    'loa bundle verify --root keys/root.pub --trust trust.json --unit 08/02500 bundles/sang',
    'loa bundle verify --root keys/root.pub --trust trust.json --installed-version 6 /media/usb/sang.tar',
  ],
  async run({ values, positionals, io }) {
    const opts = await verifyOpts(io, values, 'bundle verify');
    const target = await mustExist(io, positionals[0] as string);
    const v = (await isDirectory(target))
      ? await verifyBundleDir(target, opts)
      : await verifyBundleTar(target, opts);
    io.out(`OK ${v.manifest.id} v${v.manifest.version}`);
    return 0;
  },
};

export const bundlePack: CommandSpec = {
  name: 'bundle pack',
  summary: {
    vi: 'đóng gói thư mục thành một tệp .tar (để chép vào USB)',
    en: 'pack a bundle directory into one .tar file (for a USB stick)',
  },
  args: 'DIR FILE.tar',
  minArgs: 2,
  maxArgs: 2,
  options: {},
  examples: ['loa bundle pack bundles/sang /media/usb/sang.tar'],
  async run({ positionals, io }) {
    const m = await packBundle(
      await mustExist(io, positionals[0] as string),
      resolve(io.cwd, positionals[1] as string),
    );
    io.out(`${positionals[1]} ${m.id} v${m.version}`);
    return 0;
  },
};

export const bundleUnpack: CommandSpec = {
  name: 'bundle unpack',
  summary: {
    vi: 'kiểm tra rồi giải nén tệp .tar vào DIR (không bao giờ ghi ra ngoài DIR)',
    en: 'verify, then unpack a .tar into DIR (never writes outside DIR)',
  },
  args: 'FILE.tar DIR',
  minArgs: 2,
  maxArgs: 2,
  options: verifyOptions,
  examples: [
    'loa bundle unpack --root keys/root.pub --trust trust.json --unit 08/02500 /media/usb/sang.tar bundles/sang',
  ],
  async run({ values, positionals, io }) {
    const opts = await verifyOpts(io, values, 'bundle unpack');
    const v = await unpackBundle(
      await mustExist(io, positionals[0] as string),
      resolve(io.cwd, positionals[1] as string),
      opts,
    );
    io.out(`OK ${v.manifest.id} v${v.manifest.version} → ${positionals[1]}`);
    return 0;
  },
};
