import { createPublicKey, type KeyObject } from 'node:crypto';
import { chmod, open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  addSignature,
  generateKeyPair,
  keyId,
  LoaError,
  newTrustPolicy,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  type Role,
  RoleSchema,
  type TrustPolicy,
  UnitPathSchema,
  verifyTrustPolicy,
  withDelegatedKey,
} from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import {
  type CommandSpec,
  type Io,
  instant,
  integer,
  list,
  ROOT_KEY_OPTION,
  str,
  TRUST_FILE_OPTION,
  tr,
  UsageError,
  type Values,
} from './spec.js';

export async function readPrivateKey(io: Io, path: string): Promise<KeyObject> {
  const pem = await readText(io, path);
  return privateKeyFromPem(pem);
}

export async function readPublicKey(io: Io, path: string): Promise<KeyObject> {
  return publicKeyFromPem(await readText(io, path));
}

export async function readText(io: Io, path: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch (cause) {
    throw new LoaError(
      'FILE_UNREADABLE',
      tr(io, { vi: `không đọc được tệp ${path}`, en: `cannot read ${path}` }) +
        ` (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`,
      { cause },
    );
  }
}

/** Reads and verifies a trust policy against pinned root public key files. */
export async function loadVerifiedTrust(
  io: Io,
  trustPath: string,
  rootPaths: string[],
  now: Date,
): Promise<TrustPolicy> {
  const keys = await Promise.all(rootPaths.map((p) => readPublicKey(io, p)));
  return verifyTrustPolicy(await readText(io, trustPath), { pinned: { keys }, now });
}

function roleList(io: Io, values: Values, command: string): Role[] {
  const roles = list(values, 'role');
  for (const r of roles)
    if (!RoleSchema.safeParse(r).success)
      throw new UsageError(
        tr(io, {
          vi: `vai trò "${r}" không có; chọn trong: ${RoleSchema.options.join(', ')}`,
          en: `unknown role "${r}"; choose from: ${RoleSchema.options.join(', ')}`,
        }),
        command,
      );
  return roles as Role[];
}

export const keygen: CommandSpec = {
  name: 'keygen',
  summary: {
    vi: 'tạo cặp khóa Ed25519: PREFIX.key (bí mật, quyền 0600) và PREFIX.pub',
    en: 'create an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub',
  },
  args: 'PREFIX',
  minArgs: 1,
  maxArgs: 1,
  options: {
    force: { type: 'boolean', help: { vi: 'ghi đè khóa đã có', en: 'overwrite existing key files' } },
  },
  examples: ['loa keygen keys/root', 'loa keygen keys/editor-hanoi'],
  async run({ values, positionals, io }) {
    const prefix = resolve(io.cwd, positionals[0] as string);
    const pair = generateKeyPair();
    const flag = values.force ? 'w' : 'wx';
    let fh: import('node:fs/promises').FileHandle;
    try {
      fh = await open(`${prefix}.key`, flag, 0o600);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST')
        throw new LoaError(
          'KEY_EXISTS',
          tr(io, {
            vi: `${positionals[0]}.key đã có; không ghi đè (dùng --force nếu thật sự muốn thay khóa)`,
            en: `${positionals[0]}.key exists; not overwriting (use --force to replace it)`,
          }),
          { cause },
        );
      throw cause;
    }
    try {
      await fh.writeFile(privateKeyToPem(pair.privateKey));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(`${prefix}.key`, 0o600);
    await writeFileAtomic(`${prefix}.pub`, publicKeyToPem(pair.publicKey));
    io.out(`${positionals[0]}.key ${positionals[0]}.pub keyid=${keyId(pair.publicKey)}`);
    return 0;
  },
};

function thresholds(io: Io, values: Values): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {};
  for (const t of list(values, 'threshold')) {
    const m = /^([a-z]+)=(\d+)$/.exec(t);
    const role = m ? RoleSchema.safeParse(m[1]) : undefined;
    const n = m ? Number(m[2]) : 0;
    if (!m || !role?.success || n < 1 || n > 16)
      throw new UsageError(
        tr(io, {
          vi: `--threshold phải có dạng VAI_TRÒ=N (N từ 1 đến 16), ví dụ content=2 (nhận được "${t}")`,
          en: `--threshold must be ROLE=N (N from 1 to 16), e.g. content=2 (got "${t}")`,
        }),
        'trust init',
      );
    out[role.data] = n;
  }
  return out;
}

export const trustInit: CommandSpec = {
  name: 'trust init',
  summary: {
    vi: 'tạo chính sách tin cậy phiên bản 1, ký bằng khóa gốc',
    en: 'create a version 1 trust policy signed by the root key',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    root: {
      type: 'string',
      multiple: true,
      value: 'ROOT.key',
      required: true,
      help: {
        vi: 'khóa gốc (bí mật); lặp lại cho nhiều khóa gốc, mỗi khóa đều ký',
        en: 'root private key; repeat for several roots, each one signs',
      },
    },
    'root-threshold': {
      type: 'string',
      value: 'N',
      help: {
        vi: 'số chữ ký gốc cần cho chính sách sau (mặc định 1)',
        en: 'root signatures the next policy needs (default 1)',
      },
    },
    out: {
      type: 'string',
      value: 'trust.json',
      required: true,
      help: { vi: 'tệp chính sách sẽ ghi', en: 'policy file to write' },
    },
    threshold: {
      type: 'string',
      multiple: true,
      value: 'ROLE=N',
      help: { vi: 'số chữ ký cần cho một vai trò (mặc định 1)', en: 'signatures a role needs (default 1)' },
    },
    expires: { type: 'string', value: 'ISO', help: { vi: 'hạn của chính sách', en: 'policy expiry' } },
    force: { type: 'boolean', help: { vi: 'ghi đè tệp đã có', en: 'overwrite an existing file' } },
  },
  examples: [
    'loa trust init --root keys/root.key --out trust.json --threshold content=2 --threshold emergency=1',
  ],
  async run({ values, io }) {
    const expires = instant(io, values, 'expires', 'trust init');
    const wanted = thresholds(io, values);
    const rootPaths = list(values, 'root');
    const rootThreshold = integer(io, values, 'root-threshold', 'trust init') ?? 1;
    if (rootThreshold > rootPaths.length)
      throw new UsageError(
        tr(io, {
          vi: `--root-threshold ${rootThreshold} lớn hơn số khóa gốc (${rootPaths.length})`,
          en: `--root-threshold ${rootThreshold} is more than the number of root keys (${rootPaths.length})`,
        }),
        'trust init',
      );
    const roots = await Promise.all(rootPaths.map((p) => readPrivateKey(io, p)));
    const root = roots[0] as KeyObject;
    const out = resolve(io.cwd, str(values, 'out') as string);
    const body = newTrustPolicy({
      rootKeys: roots,
      rootThreshold,
      thresholds: wanted,
      created: io.now(),
      ...(expires ? { expires } : {}),
    });
    if (!values.force) await refuseExisting(io, out, str(values, 'out') as string);
    let signed = addSignature({ ...body, signatures: [] }, root);
    for (const k of roots.slice(1)) signed = addSignature(signed, k);
    await writeFileAtomic(out, `${JSON.stringify(signed, null, 2)}\n`);
    io.out(
      `${str(values, 'out')} v${signed.version} root=${roots.map((k) => keyId(k).slice(0, 16)).join(',')}`,
    );
    return 0;
  },
};

async function refuseExisting(io: Io, path: string, shown: string): Promise<void> {
  try {
    await readFile(path);
  } catch {
    return;
  }
  throw new LoaError(
    'FILE_EXISTS',
    tr(io, {
      vi: `${shown} đã có; dùng --force để ghi đè`,
      en: `${shown} exists; use --force to overwrite it`,
    }),
  );
}

export const trustAdd: CommandSpec = {
  name: 'trust add',
  summary: {
    vi: 'ủy quyền một khóa (vai trò, địa bàn), tăng phiên bản và ký lại bằng khóa gốc',
    en: 'delegate a key (roles, scope), bump the version and re-sign with the root key',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    root: ROOT_KEY_OPTION,
    trust: TRUST_FILE_OPTION,
    key: {
      type: 'string',
      value: 'PUB.pub',
      required: true,
      help: { vi: 'khóa công khai được ủy quyền', en: 'public key to delegate' },
    },
    role: {
      type: 'string',
      multiple: true,
      value: 'ROLE[,ROLE]',
      required: true,
      help: { vi: 'content, emergency, live, command', en: 'content, emergency, live, command' },
    },
    scope: {
      type: 'string',
      multiple: true,
      value: 'CODE[,CODE]',
      required: true,
      help: { vi: 'đường dẫn địa bàn, ví dụ 08 hoặc 08/02500', en: 'unit paths, e.g. 08 or 08/02500' },
    },
    name: { type: 'string', value: 'NAME', help: { vi: 'tên người giữ khóa', en: 'who holds the key' } },
  },
  examples: [
    'loa trust add --root keys/root.key --trust trust.json --key keys/editor.pub --role content --scope 08',
    'loa trust add --root keys/root.key --trust trust.json --key keys/chief.pub --role content,emergency --scope 08/02500 --name "Trưởng đài"',
  ],
  async run({ values, io }) {
    const roles = roleList(io, values, 'trust add');
    const scope = list(values, 'scope');
    for (const s of scope)
      if (!UnitPathSchema.safeParse(s).success)
        throw new UsageError(
          tr(io, {
            vi: `địa bàn "${s}" không hợp lệ: mã 2–5 chữ số nối bằng "/", ví dụ 08/02500`,
            en: `scope "${s}" is not a unit path: 2–5 digit codes joined by "/", e.g. 08/02500`,
          }),
          'trust add',
        );
    const root = await readPrivateKey(io, str(values, 'root') as string);
    const pub = await readPublicKey(io, str(values, 'key') as string);
    const trustPath = resolve(io.cwd, str(values, 'trust') as string);
    const current = verifyTrustPolicy(await readText(io, trustPath), {
      pinned: { keys: [createPublicKey(root)] },
      now: io.now(),
    });
    const name = str(values, 'name');
    const body = withDelegatedKey(
      current,
      { publicKey: pub, roles, scope, ...(name ? { name } : {}) },
      io.now(),
    );
    const signed = addSignature({ ...body, signatures: [] }, root);
    await writeFileAtomic(trustPath, `${JSON.stringify(signed, null, 2)}\n`);
    io.out(`${str(values, 'trust')} v${signed.version} +${keyId(pub)} ${roles.join(',')} ${scope.join(',')}`);
    const more = signed.root.threshold - 1;
    if (more > 0)
      io.out(
        tr(io, {
          vi: `cần thêm ${more} chữ ký gốc: loa trust sign --key KHÓA_GỐC.key ${str(values, 'trust')}`,
          en: `${more} more root signature(s) needed: loa trust sign --key ROOT.key ${str(values, 'trust')}`,
        }),
      );
    return 0;
  },
};

export const trustShow: CommandSpec = {
  name: 'trust show',
  summary: {
    vi: 'in tóm tắt dễ đọc của chính sách tin cậy',
    en: 'print a readable summary of a trust policy',
  },
  args: 'trust.json',
  minArgs: 1,
  maxArgs: 1,
  options: {
    root: {
      type: 'string',
      multiple: true,
      value: 'ROOT.pub',
      help: { vi: 'kiểm tra chữ ký bằng khóa gốc này', en: 'check signatures against this root key' },
    },
    now: {
      type: 'string',
      value: 'ISO',
      help: { vi: 'thời điểm dùng để kiểm tra hạn', en: 'instant used for expiry' },
    },
  },
  examples: ['loa trust show trust.json', 'loa trust show --root keys/root.pub trust.json'],
  async run({ values, positionals, io }) {
    const roots = list(values, 'root');
    const now = instant(io, values, 'now', 'trust show') ?? io.now();
    const text = await readText(io, positionals[0] as string);
    let policy: TrustPolicy;
    if (roots.length > 0) {
      policy = await loadVerifiedTrust(io, positionals[0] as string, roots, now);
      io.out(tr(io, { vi: 'Chữ ký gốc: hợp lệ', en: 'Root signature: valid' }));
    } else {
      const { TrustPolicySchema } = await import('@loa/protocol');
      const parsed = TrustPolicySchema.safeParse(JSON.parse(text));
      if (!parsed.success)
        throw new LoaError('TRUST_MALFORMED', parsed.error.issues[0]?.message ?? 'invalid');
      policy = parsed.data;
      io.out(
        tr(io, {
          vi: 'Chữ ký gốc: CHƯA kiểm tra (thêm --root)',
          en: 'Root signature: NOT checked (add --root)',
        }),
      );
    }
    const L = (vi: string, en: string) => tr(io, { vi, en });
    io.out(
      `${L('Phiên bản', 'Version')}: ${policy.version}  ${L('tạo lúc', 'created')} ${policy.created}${policy.expires ? `  ${L('hết hạn', 'expires')} ${policy.expires}` : ''}`,
    );
    io.out(`${L('Khóa gốc', 'Root keys')} (${L('ngưỡng', 'threshold')} ${policy.root.threshold}):`);
    for (const k of policy.root.keys) io.out(`  ${k.keyid}`);
    io.out(
      `${L('Ngưỡng chữ ký', 'Signature thresholds')}: ${RoleSchema.options.map((r) => `${r}=${policy.thresholds[r] ?? 1}`).join(' ')}`,
    );
    io.out(`${L('Khóa được ủy quyền', 'Delegated keys')}: ${policy.keys.length}`);
    for (const k of policy.keys)
      io.out(
        `  ${k.keyid.slice(0, 16)}…  ${k.roles.join(',').padEnd(24)} ${k.scope.join(',')}${k.name ? `  (${k.name})` : ''}`,
      );
    return 0;
  },
};
