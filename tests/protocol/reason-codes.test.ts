/**
 * One scenario per reason code that bundle and trust verification can produce, each built from
 * real keys, real signatures and real files. COMMAND_REPLAYED and PROOF_CHAIN_BROKEN are
 * produced by the agent's command service and the server's proof chain (tested there).
 */
import { appendFile, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blobPath,
  MANIFEST_FILE,
  packBundle,
  readManifestBytes,
  unpackBundle,
  verifyBundleDir,
  verifyBundleTar,
} from '../../protocol/src/fs/index.js';
import {
  documentDigest,
  isReasonCode,
  REASONS,
  type ReasonCode,
  type RecallBody,
  verifyChoices,
  verifyManifest,
  verifyRecall,
  verifyTrustPolicy,
} from '../../protocol/src/index.js';
import {
  craftTar,
  createWorld,
  DAY,
  iso,
  makeBundle,
  manifestBody,
  NOW,
  sign,
  tempDir,
  trust,
  trustBody,
} from './fixtures.js';

// BUNDLE_RECALLED: the agent's bundle store refuses a recalled bundle (tests/e2e/recall.test.ts)
const NOT_FROM_VERIFICATION: ReasonCode[] = ['COMMAND_REPLAYED', 'PROOF_CHAIN_BROKEN', 'BUNDLE_RECALLED'];

const w = createWorld();
const policy = trust(w, { thresholds: {} });
const policy2 = trust(w, { thresholds: { content: 2 } });
const pinned = { keys: [w.root.publicKey] };
const base = { trust: policy, now: NOW };
let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

/** Runs `fn` and returns the code of the VerifyError it throws. */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const err = e as { name?: string; code?: string };
    expect(err.name).toBe('VerifyError');
    return err.code as string;
  }
  throw new Error('expected a rejection, got success');
}

/** A recall of the fixtures' bundle (main@5, 08/02500) under the content role. */
function recallBody(over: Partial<RecallBody> = {}): RecallBody {
  return {
    type: 'loa-recall',
    format: 1,
    id: 'r-1',
    bundleId: 'ban-tin-sang',
    channel: 'main',
    version: 5,
    roles: ['content'],
    targets: [{ unit: '08/02500' }],
    reason: 'Gỡ do nhầm nội dung',
    issued: iso(NOW.getTime() - 60_000),
    expires: iso(NOW.getTime() + DAY),
    ...over,
  };
}

let serial = 0;
async function freshBundle(name: string): Promise<string> {
  serial += 1;
  return makeBundle(tmp.dir, `${name}-${serial}`, [w.editor]);
}

const scenarios: Record<
  Exclude<ReasonCode, 'COMMAND_REPLAYED' | 'PROOF_CHAIN_BROKEN' | 'BUNDLE_RECALLED'>,
  () => unknown
> = {
  MANIFEST_MALFORMED: () => verifyManifest('{"type": "loa-bundle", ', base),
  MANIFEST_TOO_LARGE: () =>
    verifyManifest(JSON.stringify(sign(manifestBody({ description: 'x'.repeat(1500) }), w.editor)), {
      ...base,
      maxBytes: 1024,
    }),
  FORMAT_UNSUPPORTED: () =>
    verifyManifest(JSON.stringify(sign({ ...manifestBody(), format: 2 }, w.editor)), base),
  TRUST_MALFORMED: () =>
    verifyTrustPolicy(JSON.stringify(sign({ ...trustBody(w), thresholds: { content: 0 } }, w.root)), {
      pinned,
      now: NOW,
    }),
  TRUST_ROOT_MISMATCH: () =>
    verifyTrustPolicy(JSON.stringify(sign(trustBody(w), w.otherRoot)), { pinned, now: NOW }),
  TRUST_ROLLBACK: () =>
    verifyTrustPolicy(JSON.stringify(sign(trustBody(w, { version: 2 }), w.root)), {
      pinned,
      now: NOW,
      installed: trust(w, { version: 3 }),
    }),
  TRUST_EXPIRED: () =>
    verifyTrustPolicy(JSON.stringify(sign(trustBody(w, { expires: iso(NOW.getTime() - 1000) }), w.root)), {
      pinned,
      now: NOW,
    }),
  KEY_UNKNOWN: () => verifyManifest(JSON.stringify(sign(manifestBody(), w.stranger)), base),
  SIGNATURE_INVALID: () => {
    const m = sign(manifestBody(), w.editor);
    return verifyManifest(JSON.stringify({ ...m, version: m.version + 1 }), base);
  },
  THRESHOLD_UNMET: () =>
    verifyManifest(JSON.stringify(sign(manifestBody(), w.editor)), { ...base, trust: policy2 }),
  ROLE_NOT_AUTHORISED: () => {
    const body = manifestBody();
    const items = body.items.map((i) => ({ ...i, priority: 'emergency' as const }));
    return verifyManifest(JSON.stringify(sign({ ...body, items }, w.editor)), base);
  },
  SCOPE_NOT_COVERED: () => verifyManifest(JSON.stringify(sign(manifestBody(), w.sibling)), base),
  EXPIRED: () =>
    verifyManifest(JSON.stringify(sign(manifestBody(), w.editor)), {
      ...base,
      now: new Date(NOW.getTime() + 8 * DAY),
    }),
  NOT_YET_VALID: () =>
    verifyManifest(
      JSON.stringify(sign(manifestBody({ notBefore: iso(NOW.getTime() + DAY) }), w.editor)),
      base,
    ),
  VERSION_ROLLBACK: () =>
    verifyManifest(JSON.stringify(sign(manifestBody(), w.editor)), {
      ...base,
      installed: { version: 6, digest: 'x' },
    }),
  VERSION_CONFLICT: () => {
    const other = sign(manifestBody({ description: 'another edition' }), w.editor);
    return verifyManifest(JSON.stringify(sign(manifestBody(), w.editor)), {
      ...base,
      installed: { version: 5, digest: documentDigest(other) },
    });
  },
  TARGET_MISMATCH: () =>
    verifyManifest(JSON.stringify(sign(manifestBody(), w.editor)), { ...base, device: { unit: '08/02600' } }),
  BLOB_MISSING: async () => {
    const dir = await freshBundle('missing');
    const m = JSON.parse((await readManifestBytes(dir)).toString());
    await unlink(blobPath(dir, m.items[0].blob.sha256));
    return verifyBundleDir(dir, base);
  },
  BLOB_HASH_MISMATCH: async () => {
    const dir = await freshBundle('hash');
    const m = JSON.parse((await readManifestBytes(dir)).toString());
    const p = blobPath(dir, m.items[0].blob.sha256);
    const bytes = await readFile(p);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    await writeFile(p, bytes);
    return verifyBundleDir(dir, base);
  },
  BLOB_SIZE_MISMATCH: async () => {
    const dir = await freshBundle('size');
    const m = JSON.parse((await readManifestBytes(dir)).toString());
    await appendFile(blobPath(dir, m.items[1].blob.sha256), Buffer.alloc(10));
    return verifyBundleDir(dir, base);
  },
  EXTRA_FILE: async () => {
    const dir = await freshBundle('extra');
    await writeFile(join(dir, 'blobs', 'a'.repeat(64)), 'not listed');
    return verifyBundleDir(dir, base);
  },
  TAR_UNSAFE_ENTRY: async () => {
    const dir = await freshBundle('unsafe');
    const manifest = await readFile(join(dir, MANIFEST_FILE));
    const tar = join(tmp.dir, `unsafe-${serial}.tar`);
    await writeFile(
      tar,
      craftTar([
        { name: MANIFEST_FILE, data: manifest },
        { name: '../evil.sh', data: Buffer.from('#!/bin/sh') },
      ]),
    );
    return unpackBundle(tar, join(tmp.dir, 'unsafe-out'), base);
  },
  RECALL_MALFORMED: () => verifyRecall({ type: 'loa-recall', bundleId: 'ban-tin-sang' }, base),
  CHOICES_MALFORMED: () => verifyChoices({ type: 'loa-choices', unit: '08/02500', optOut: [{}] }, base),
  RECALL_MISMATCH: () =>
    verifyRecall(sign(recallBody(), w.editor), {
      ...base,
      manifest: sign(manifestBody({ version: 6 }), w.editor),
    }),
  TAR_MALFORMED: async () => {
    const dir = await freshBundle('malformed');
    const tar = join(tmp.dir, 'malformed.tar');
    await packBundle(dir, tar);
    const bytes = await readFile(tar);
    bytes[0] = 0x7a; // breaks the first header's checksum
    await writeFile(tar, bytes);
    return verifyBundleTar(tar, base);
  },
};

describe('every verification reason code has a scenario', () => {
  it('covers all codes in REASONS but the agent/server ones', () => {
    const covered = Object.keys(scenarios).sort();
    const all = Object.keys(REASONS).filter((c) => !NOT_FROM_VERIFICATION.includes(c as ReasonCode));
    expect(covered).toEqual(all.sort());
    expect(covered.every(isReasonCode)).toBe(true);
  });

  for (const [code, scenario] of Object.entries(scenarios)) {
    it(`rejects with ${code}`, async () => {
      expect(await codeOf(scenario)).toBe(code);
    });
  }

  it('leaves nothing behind when unpacking fails', async () => {
    await rm(join(tmp.dir, 'unsafe-out'), { recursive: true, force: true });
    expect(await codeOf(scenarios.TAR_UNSAFE_ENTRY)).toBe('TAR_UNSAFE_ENTRY');
    const left = (await import('node:fs/promises')).readdir(tmp.dir);
    expect((await left).filter((n) => n.includes('unsafe-out'))).toEqual([]);
  });
});
