import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import { addSignature, keyId, LoaError, TrustPolicySchema } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { readPrivateKey, readText } from './commands-keys.js';
import { type CommandSpec, str, tr } from './spec.js';

/**
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
