import { createPublicKey, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import {
  addSignature,
  keyId,
  LoaError,
  type TrustPolicy,
  TrustPolicySchema,
  verifyTrustPolicy,
  withoutDelegatedKey,
  withRootKeys,
} from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { readPrivateKey, readPublicKey, readText } from './commands-keys.js';
import {
  type CommandSpec,
  type Io,
  integer,
  list,
  ROOT_KEY_OPTION,
  str,
  TRUST_FILE_OPTION,
  tr,
  UsageError,
} from './spec.js';

/**
 * Trust commands beyond the basic init/add: sign (extra root signatures), remove (revocation)
 * and rotate (new root keys).
 *
 * `loa trust sign`: one more root signature on a policy, for root thresholds above 1 and for
 * root rotation (a policy naming new root keys is signed by the old root and by the new).
 */
export const trustSign: CommandSpec = {
  name: 'trust sign',
  summary: {
    vi: 'thêm chữ ký của một khóa gốc (ngưỡng gốc > 1, thay khóa gốc)',
    en: 'add one root signature (root threshold > 1, root rotation)',
  },
  args: 'trust.json',
  minArgs: 1,
  maxArgs: 1,
  options: {
    key: {
      type: 'string',
      value: 'ROOT.key',
      required: true,
      help: { vi: 'khóa gốc (bí mật) ký thêm', en: 'root private key that signs' },
    },
  },
  examples: ['loa trust sign --key keys/root-2.key trust.json'],
  async run({ values, positionals, io }) {
    const key = await readPrivateKey(io, str(values, 'key') as string);
    const path = resolve(io.cwd, positionals[0] as string);
    let doc: unknown;
    try {
      doc = JSON.parse(await readText(io, positionals[0] as string));
    } catch (cause) {
      if (cause instanceof LoaError) throw cause;
      throw new LoaError('TRUST_MALFORMED', `${positionals[0]}: not valid JSON`, { cause });
    }
    const parsed = TrustPolicySchema.safeParse(doc);
    if (!parsed.success)
      throw new LoaError('TRUST_MALFORMED', parsed.error.issues[0]?.message ?? 'invalid trust policy');
    const id = keyId(createPublicKey(key));
    const signed = addSignature(parsed.data, key);
    await writeFileAtomic(path, `${JSON.stringify(signed, null, 2)}\n`);
    const isRoot = parsed.data.root.keys.some((k) => k.keyid === id);
    io.out(
      `${positionals[0]} v${signed.version} +${id.slice(0, 16)}… (${signed.signatures.length} ${tr(io, { vi: 'chữ ký', en: 'signature(s)' })})` +
        (isRoot
          ? ''
          : tr(io, {
              vi: ' — lưu ý: khóa này không phải khóa gốc của chính sách',
              en: ' — note: not a root key of this policy',
            })),
    );
    return 0;
  },
};

/** Reads a policy, checks it against the given root private key(s), returns it. */
async function currentPolicy(io: Io, trustPath: string, roots: KeyObject[]): Promise<TrustPolicy> {
  return verifyTrustPolicy(await readText(io, trustPath), {
    pinned: { keys: roots.map((k) => createPublicKey(k)) },
    now: io.now(),
  });
}

async function writePolicy(path: string, body: object, signers: KeyObject[]): Promise<TrustPolicy> {
  let signed = addSignature(
    { ...body, signatures: [] as TrustPolicy['signatures'] },
    signers[0] as KeyObject,
  );
  for (const k of signers.slice(1)) signed = addSignature(signed, k);
  await writeFileAtomic(path, `${JSON.stringify(signed, null, 2)}\n`);
  return signed as unknown as TrustPolicy;
}

export const trustRemove: CommandSpec = {
  name: 'trust remove',
  summary: {
    vi: 'thu hồi một khóa (bị lộ, người rời vị trí): tăng phiên bản, ký lại bằng khóa gốc',
    en: 'revoke a key (compromised, holder left): bump the version, re-sign with the root',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    root: ROOT_KEY_OPTION,
    trust: TRUST_FILE_OPTION,
    key: {
      type: 'string',
      value: 'PUB.pub|KEYID',
      required: true,
      help: { vi: 'khóa công khai hoặc mã khóa cần thu hồi', en: 'public key file or key id to revoke' },
    },
  },
  examples: ['loa trust remove --root keys/root.key --trust trust.json --key keys/editor-cu.pub'],
  async run({ values, io }) {
    const ref = str(values, 'key') as string;
    const root = await readPrivateKey(io, str(values, 'root') as string);
    const id = /^[0-9a-f]{64}$/.test(ref) ? ref : keyId(await readPublicKey(io, ref));
    const path = resolve(io.cwd, str(values, 'trust') as string);
    const current = await currentPolicy(io, str(values, 'trust') as string, [root]);
    const signed = await writePolicy(path, withoutDelegatedKey(current, id, io.now()), [root]);
    io.out(`${str(values, 'trust')} v${signed.version} -${id}`);
    return 0;
  },
};

export const trustRotate: CommandSpec = {
  name: 'trust rotate',
  summary: {
    vi: 'thay khóa gốc: chính sách mới ký bởi khóa gốc cũ và các khóa gốc mới',
    en: 'rotate the root: a new policy signed by the old root and by the new root keys',
  },
  args: '',
  minArgs: 0,
  maxArgs: 0,
  options: {
    root: {
      type: 'string',
      value: 'OLD.key',
      required: true,
      help: { vi: 'khóa gốc hiện tại (bí mật)', en: 'current root private key' },
    },
    'new-root': {
      type: 'string',
      multiple: true,
      value: 'NEW.key',
      required: true,
      help: { vi: 'khóa gốc mới (bí mật), lặp lại được', en: 'new root private key (repeatable)' },
    },
    'root-threshold': {
      type: 'string',
      value: 'N',
      help: { vi: 'ngưỡng chữ ký gốc mới (mặc định 1)', en: 'new root threshold (default 1)' },
    },
    trust: TRUST_FILE_OPTION,
  },
  examples: ['loa trust rotate --root keys/root.key --new-root keys/root-2027.key --trust trust.json'],
  async run({ values, io }) {
    const newPaths = list(values, 'new-root');
    const threshold = integer(io, values, 'root-threshold', 'trust rotate') ?? 1;
    if (threshold > newPaths.length)
      throw new UsageError(
        tr(io, {
          vi: `--root-threshold ${threshold} lớn hơn số khóa gốc mới (${newPaths.length})`,
          en: `--root-threshold ${threshold} is more than the number of new root keys (${newPaths.length})`,
        }),
        'trust rotate',
      );
    const old = await readPrivateKey(io, str(values, 'root') as string);
    const fresh = await Promise.all(newPaths.map((p) => readPrivateKey(io, p)));
    const path = resolve(io.cwd, str(values, 'trust') as string);
    const current = await currentPolicy(io, str(values, 'trust') as string, [old]);
    const body = withRootKeys(
      current,
      fresh.map((k) => createPublicKey(k)),
      threshold,
      io.now(),
    );
    const signed = await writePolicy(path, body, [old, ...fresh]);
    io.out(
      `${str(values, 'trust')} v${signed.version} root=${fresh.map((k) => keyId(k).slice(0, 16)).join(',')}`,
    );
    io.out(
      tr(io, {
        vi: 'Thiết bị đã cài chính sách cũ sẽ chấp nhận chính sách này; thiết bị mới cần khóa gốc mới được ghim.',
        en: 'Stations with the old policy installed accept this one; new stations need the new root pinned.',
      }),
    );
    return 0;
  },
};
