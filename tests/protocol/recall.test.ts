/**
 * verifyRecall: a recall is signed under the roles, thresholds and scope of the bundle it
 * withdraws; each refusal has its stable code.
 */
import { describe, expect, it } from 'vitest';
import {
  type Manifest,
  type RecallBody,
  recallCovers,
  VerifyError,
  verifyRecall,
} from '../../protocol/src/index.js';
import { createWorld, DAY, iso, manifestBody, NOW, sign, trust } from './fixtures.js';

const w = createWorld();
const policy = trust(w, { thresholds: {} });
const policy2 = trust(w, { thresholds: { content: 2 } });

function body(over: Partial<RecallBody> = {}): RecallBody {
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

const emergencyManifest = sign(
  manifestBody({
    items: [
      {
        id: 'canh-bao',
        title: 'Cảnh báo lũ',
        kind: 'text',
        priority: 'emergency',
        lang: 'vi',
        text: 'Lũ quét',
      },
    ],
    schedule: [{ id: 'ngay', items: ['canh-bao'], rule: { type: 'immediate' } }],
  } as never),
  w.chief,
) as Manifest;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    return (e as VerifyError).code;
  }
  throw new Error('expected a refusal');
}

describe('verifyRecall', () => {
  it('accepts a recall signed by a content key whose scope covers the targets', () => {
    const { recall, digest } = verifyRecall(sign(body(), w.approver), { trust: policy, now: NOW });
    expect(recall.bundleId).toBe('ban-tin-sang');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('wants the policy threshold for the role: one content key of two is THRESHOLD_UNMET', () => {
    expect(codeOf(() => verifyRecall(sign(body(), w.editor), { trust: policy2, now: NOW }))).toBe(
      'THRESHOLD_UNMET',
    );
    expect(verifyRecall(sign(body(), w.editor, w.approver), { trust: policy2, now: NOW }).recall.id).toBe(
      'r-1',
    );
  });

  it('an emergency is recalled only under the emergency role', () => {
    const m = emergencyManifest;
    const asContent = sign(body({ bundleId: m.id, channel: m.channel, version: m.version }), w.editor);
    expect(codeOf(() => verifyRecall(asContent, { trust: policy, now: NOW, manifest: m }))).toBe(
      'ROLE_NOT_AUTHORISED',
    );
    // claiming the emergency role with a content key does not help
    const claimed = sign(
      body({ bundleId: m.id, channel: m.channel, version: m.version, roles: ['emergency'] }),
      w.editor,
    );
    expect(codeOf(() => verifyRecall(claimed, { trust: policy, now: NOW, manifest: m }))).toBe(
      'ROLE_NOT_AUTHORISED',
    );
    const byChief = sign(
      body({ bundleId: m.id, channel: m.channel, version: m.version, roles: ['emergency'] }),
      w.chief,
    );
    expect(verifyRecall(byChief, { trust: policy, now: NOW, manifest: m }).recall.roles).toEqual([
      'emergency',
    ]);
    expect(recallCovers(['content'], m)).toBe(false);
    expect(recallCovers(['emergency'], m)).toBe(true);
  });

  it('refuses out of scope, tampered, unknown keys, expired, future and foreign recalls', () => {
    const sibling = sign(body(), w.sibling);
    expect(codeOf(() => verifyRecall(sibling, { trust: policy, now: NOW }))).toBe('SCOPE_NOT_COVERED');
    const tampered = { ...sign(body(), w.approver), bundleId: 'ban-tin-toi' };
    expect(codeOf(() => verifyRecall(tampered, { trust: policy, now: NOW }))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifyRecall(sign(body(), w.stranger), { trust: policy, now: NOW }))).toBe(
      'KEY_UNKNOWN',
    );
    const expired = sign(body({ expires: iso(NOW.getTime() - 1000) }), w.approver);
    expect(codeOf(() => verifyRecall(expired, { trust: policy, now: NOW }))).toBe('EXPIRED');
    const future = sign(body({ issued: iso(NOW.getTime() + DAY) }), w.approver);
    expect(codeOf(() => verifyRecall(future, { trust: policy, now: NOW }))).toBe('NOT_YET_VALID');
    const foreign = verifyRecallFor('08/02600');
    expect(foreign).toBe('TARGET_MISMATCH');
    expect(
      codeOf(() => verifyRecall(sign(body({ format: 2 }), w.approver), { trust: policy, now: NOW })),
    ).toBe('FORMAT_UNSUPPORTED');
  });
});

function verifyRecallFor(unit: string): string {
  return codeOf(() =>
    verifyRecall(sign(body({ targets: [{ unit: '08/02500' }] }), w.editor), {
      trust: policy,
      now: NOW,
      device: { unit },
    }),
  );
}
