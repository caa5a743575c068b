/**
 * Agent releases (self-update): `loa release build` packs the agent's install tree (what
 * images/build-agent.sh stages) into the artifact and writes the unsigned release document;
 * `loa release sign` adds a signature with an OFFLINE key holding the `release` role. Upload
 * both through the server's API (POST /api/v1/releases/artifact, then POST /api/v1/releases).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  AgentVersionSchema,
  addSignature,
  RELEASE_CHANNEL,
  RELEASE_FORMAT,
  type Release,
  ReleaseSchema,
  UnitPathSchema,
} from '@loa/protocol';
import { packRelease, writeJsonAtomic } from '@loa/protocol/fs';
import { readPrivateKey } from './commands-keys.js';
import { type CommandSpec, instant, integer, list, str, UsageError } from './spec.js';

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export const releaseBuild: CommandSpec = {
  name: 'release build',
  summary: {
    vi: 'đóng gói phần mềm trạm (thư mục cài đặt) thành bản phát hành chưa ký',
    en: "pack the agent's install tree into an unsigned release",
  },
  args: 'AGENT_DIR OUT.tar.gz',
  minArgs: 2,
  maxArgs: 2,
  options: {
    version: {
      type: 'string',
      value: 'N',
      required: true,
      help: { vi: 'số thứ tự bản phát hành (tăng dần)', en: 'release number (monotonic)' },
    },
    unit: {
      type: 'string',
      value: 'UNIT',
      multiple: true,
      required: true,
      help: { vi: 'địa bàn nhận bản phát hành', en: 'target unit' },
    },
    expires: {
      type: 'string',
      value: 'ISO',
      help: { vi: 'hết hạn (mặc định +90 ngày)', en: 'expiry (default +90 days)' },
    },
    'ready-deadline': {
      type: 'string',
      value: 'S',
      help: {
        vi: 'số giây để phiên bản mới sẵn sàng và báo về máy chủ (mặc định 600)',
        en: 'seconds for the new version to become ready and report (default 600)',
      },
    },
    out: {
      type: 'string',
      value: 'RELEASE.json',
      help: { vi: 'tệp tài liệu phát hành', en: 'release document file' },
    },
  },
  examples: [
    'loa release build --version 7 --unit 08 stage/agent agent-0.2.0.tar.gz --out agent-0.2.0.release.json',
  ],
  async run({ values, positionals, io }) {
    const cmd = 'release build';
    const dir = resolve(io.cwd, positionals[0] as string);
    const out = resolve(io.cwd, positionals[1] as string);
    const version = integer(io, values, 'version', cmd) as number;
    const units = list(values, 'unit');
    for (const u of units)
      if (!UnitPathSchema.safeParse(u).success) throw new UsageError(`unit "${u}" is not a unit path`, cmd);
    const pkg = JSON.parse(await readFile(resolve(dir, 'package.json'), 'utf8')) as { version?: string };
    const agentVersion = AgentVersionSchema.safeParse(pkg.version);
    if (!agentVersion.success)
      throw new UsageError(`${dir}/package.json has no agent version such as 1.2.3`, cmd);
    await packRelease(dir, out);
    const now = io.now();
    const deadline = integer(io, values, 'ready-deadline', cmd, 30);
    const release: Release = {
      type: 'loa-release',
      format: RELEASE_FORMAT,
      id: `agent-${agentVersion.data}`,
      channel: RELEASE_CHANNEL,
      version,
      agentVersion: agentVersion.data,
      created: now.toISOString(),
      expires: (
        instant(io, values, 'expires', cmd) ?? new Date(now.getTime() + 90 * 86_400_000)
      ).toISOString(),
      targets: units.map((unit) => ({ unit })),
      artifact: {
        sha256: await sha256File(out),
        size: (await stat(out)).size,
        mediaType: 'application/gzip',
      },
      ...(deadline ? { readyDeadlineS: deadline } : {}),
      signatures: [],
    };
    const doc = resolve(io.cwd, str(values, 'out') ?? out.replace(/\.tar\.gz$/, '.release.json'));
    await writeJsonAtomic(doc, ReleaseSchema.parse(release));
    io.out(`${release.id} v${version}: ${out} (${release.artifact.size} B), ${doc}`);
    return 0;
  },
};

export const releaseSign: CommandSpec = {
  name: 'release sign',
  summary: {
    vi: 'ký bản phát hành phần mềm trạm bằng khóa có vai trò release (giữ ngoại tuyến)',
    en: 'sign an agent release with a key holding the release role (kept offline)',
  },
  args: 'RELEASE.json',
  minArgs: 1,
  maxArgs: 1,
  options: {
    key: {
      type: 'string',
      value: 'KEY.key',
      required: true,
      help: { vi: 'khóa bí mật phát hành', en: 'release private key' },
    },
  },
  examples: ['loa release sign --key keys/release.key agent-0.2.0.release.json'],
  async run({ values, positionals, io }) {
    const path = resolve(io.cwd, positionals[0] as string);
    const release = ReleaseSchema.parse(JSON.parse(await readFile(path, 'utf8')));
    const key = await readPrivateKey(io, str(values, 'key') as string);
    const signed = addSignature(release, key);
    await writeJsonAtomic(path, signed);
    io.out(`${release.id} v${release.version}: ${signed.signatures.length} signature(s)`);
    return 0;
  },
};
