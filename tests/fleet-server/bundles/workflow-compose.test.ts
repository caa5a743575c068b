/** Pure approval workflow, bundle composition, rollout and emergency tracking rules. */
import { ManifestBodySchema, type Proof, type Status } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import * as flow from '../../../fleet-server/src/domain/approval.js';
import {
  BundleDraftSchema,
  type ContentLike,
  composeManifest,
} from '../../../fleet-server/src/domain/bundle-compose.js';
import {
  applyEmergencyProof,
  applyEmergencyStatus,
  composeEmergencyManifest,
  EmergencyRequestSchema,
  initialEmergencyState,
} from '../../../fleet-server/src/domain/emergency.js';
import { applyStatus, summarizeRollout } from '../../../fleet-server/src/domain/rollout.js';

const editor: flow.Actor = { id: 'u-ed', username: 'ed', role: 'editor', scope: ['08/02500'] };
const approver: flow.Actor = { id: 'u-ap', username: 'ap', role: 'approver', scope: ['08'] };
const admin: flow.Actor = { id: 'u-ad', username: 'ad', role: 'administrator', scope: ['*'] };
const viewer: flow.Actor = { id: 'u-v', username: 'v', role: 'viewer', scope: ['08'] };
const twoPerson = { approvals: 1, twoPerson: true };

describe('approval workflow', () => {
  const draft: flow.WorkflowBundle = { state: 'draft', units: ['08/02500'], createdBy: editor.id };

  it('draft → submitted → approved → published, each step by its role', () => {
    const s = { ...draft, ...flow.submit(editor, draft) };
    expect(s.state).toBe('submitted');
    const a = { ...s, ...flow.approve(approver, s, twoPerson) };
    expect(a).toMatchObject({ state: 'approved', approvedBy: ['u-ap'] });
    expect(flow.publish(approver, a).state).toBe('published');
  });

  it('refuses the wrong role, the wrong state, a unit outside the scope, and self-approval', () => {
    expect(() => flow.submit(viewer, draft)).toThrow(expect.objectContaining({ code: 'FORBIDDEN_ROLE' }));
    expect(() => flow.approve(approver, draft, twoPerson)).toThrow(
      expect.objectContaining({ code: 'BUNDLE_STATE_CONFLICT' }),
    );
    expect(() => flow.canEdit(editor, { state: 'draft', units: ['08/02600'] })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN_SCOPE' }),
    );
    const mine = { state: 'submitted' as const, units: ['08'], createdBy: admin.id, submittedBy: admin.id };
    expect(() => flow.approve(admin, mine, twoPerson)).toThrow(
      expect.objectContaining({ code: 'SELF_APPROVAL_FORBIDDEN' }),
    );
    expect(flow.approve(admin, mine, { approvals: 1, twoPerson: false }).state).toBe('approved');
    expect(() => flow.reject(approver, { ...mine }, '  ')).toThrow(
      expect.objectContaining({ code: 'REASON_REQUIRED' }),
    );
    expect(flow.reject(approver, { ...mine }, 'Sai chính tả')).toEqual({
      state: 'rejected',
      reason: 'Sai chính tả',
    });
  });

  it('needs distinct approvers when more than one approval is required', () => {
    const s: flow.WorkflowBundle = { state: 'submitted', units: ['08/02500'], createdBy: editor.id };
    const first = flow.approve(approver, s, { approvals: 2, twoPerson: true });
    expect(first.state).toBe('submitted');
    expect(() =>
      flow.approve(approver, { ...s, approvedBy: first.approvedBy }, { approvals: 2, twoPerson: true }),
    ).toThrow(expect.objectContaining({ code: 'ALREADY_APPROVED_CONFLICT' }));
    expect(
      flow.approve(admin, { ...s, approvedBy: first.approvedBy }, { approvals: 2, twoPerson: true }).state,
    ).toBe('approved');
  });
});

const audio: ContentLike = {
  id: 'c-1',
  kind: 'audio',
  title: 'Bản tin',
  lang: 'vi',
  sha256: 'a'.repeat(64),
  size: 1000,
  mediaType: 'audio/ogg',
  durationMs: 60_000,
};

describe('composeManifest', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  it('builds a schema-valid manifest body with defaults (+07:00, 30 days)', () => {
    const d = BundleDraftSchema.parse({
      channel: 'xa-02500',
      items: [{ content: 'c-1' }],
      schedule: [
        { id: 's', items: ['c-1'], rule: { type: 'weekly', days: ['mon', 'thu'], times: ['17:00'] } },
      ],
      targets: [{ unit: '08/02500', groups: ['cho'] }],
    });
    const m = composeManifest(d, new Map([['c-1', audio]]), { version: 3, now });
    expect(ManifestBodySchema.safeParse(m).success).toBe(true);
    expect(m).toMatchObject({
      id: 'xa-02500-v3',
      version: 3,
      utcOffset: '+07:00',
      expires: '2026-12-26T00:00:00.000Z',
    });
    expect(m.items[0]).toMatchObject({
      kind: 'audio',
      priority: 'normal',
      blob: { sha256: 'a'.repeat(64), size: 1000 },
    });
  });
  it('refuses unknown content and schedules naming unknown items', () => {
    const d = BundleDraftSchema.parse({
      channel: 'x',
      items: [{ content: 'c-9' }],
      targets: [{ unit: '08' }],
    });
    expect(() => composeManifest(d, new Map(), { version: 1, now })).toThrow(
      expect.objectContaining({ code: 'CONTENT_NOT_FOUND' }),
    );
    const bad = BundleDraftSchema.parse({
      channel: 'x',
      items: [{ content: 'c-1' }],
      schedule: [{ id: 's', items: ['nope'], rule: { type: 'immediate' } }],
      targets: [{ unit: '08' }],
    });
    expect(() => composeManifest(bad, new Map([['c-1', audio]]), { version: 1, now })).toThrow(
      expect.objectContaining({ code: 'BUNDLE_INVALID' }),
    );
  });
});

describe('rollout', () => {
  const b = { id: 'x-v1', channel: 'x', version: 1 };
  const st = (state: Status['state'], extra: Partial<Status> = {}): Status => ({
    bundleId: 'x-v1',
    channel: 'x',
    version: 1,
    state,
    at: '2026-11-26T00:00:00Z',
    ...extra,
  });
  it('moves forward, ignores going back and other bundles, shows failure and recovery', () => {
    const now = new Date();
    const d = applyStatus(undefined, st('downloading', { bytes: 10, totalBytes: 100 }), b, 'st-1', now);
    const a = applyStatus(d, st('active'), b, 'st-1', now);
    expect(a?.state).toBe('active');
    expect(applyStatus(a, st('downloading'), b, 'st-1', now)).toBeUndefined();
    expect(applyStatus(a, st('active', { bundleId: 'y-v1' }), b, 'st-1', now)).toBeUndefined();
    const f = applyStatus(a, st('failed', { reason: 'EXPIRED' }), b, 'st-1', now);
    expect(f).toMatchObject({ state: 'failed', reason: 'EXPIRED' });
    expect(applyStatus(f, st('verified'), b, 'st-1', now)?.state).toBe('verified');
    expect(summarizeRollout([a as never, f as never], 4)).toMatchObject({
      total: 4,
      pending: 2,
      active: 1,
      failed: 1,
    });
  });
});

describe('emergency', () => {
  it('composes an immediate, repeated, emergency-priority bundle for a unit', () => {
    const req = EmergencyRequestSchema.parse({
      unit: '08/02500',
      title: 'Bão số 3',
      text: 'Bão đổ bộ chiều nay',
      repeat: 3,
    });
    const m = composeEmergencyManifest(req, audio, { version: 7, now: new Date('2026-11-26T00:00:00Z') });
    expect(m).toMatchObject({ id: 'emergency-v7', channel: 'emergency', targets: [{ unit: '08/02500' }] });
    expect(m.items.map((i) => [i.kind, i.priority])).toEqual([
      ['audio', 'emergency'],
      ['text', 'emergency'],
    ]);
    expect(m.schedule?.[0]).toMatchObject({
      items: ['alert-audio'],
      rule: { type: 'immediate' },
      repeat: { count: 3 },
    });
    expect(EmergencyRequestSchema.safeParse({ unit: '08', title: 'x' }).success).toBe(false);
  });
  it('tracks a device from sent to completed, and a failure', () => {
    const now = new Date();
    const s0 = initialEmergencyState('st-1', '08/02500', now);
    const st = { bundleId: 'emergency-v7', channel: 'emergency', version: 7, at: now.toISOString() };
    const s1 = applyEmergencyStatus(s0, { ...st, state: 'verified' }, 'emergency-v7', now);
    expect(s1?.stage).toBe('received');
    const p = { bundleId: 'emergency-v7', outcome: 'started', startedAt: now.toISOString() } as Proof;
    const s2 = applyEmergencyProof(s1 as never, p, 'emergency-v7', now);
    expect(s2).toMatchObject({ stage: 'playing', plays: 1 });
    const s3 = applyEmergencyProof(s2 as never, { ...p, outcome: 'completed' }, 'emergency-v7', now);
    expect(s3?.stage).toBe('completed');
    expect(
      applyEmergencyStatus(s3 as never, { ...st, state: 'failed' }, 'emergency-v7', now),
    ).toBeUndefined();
    expect(
      applyEmergencyStatus(s0, { ...st, state: 'failed', reason: 'EXPIRED' }, 'emergency-v7', now),
    ).toMatchObject({
      stage: 'failed',
      failedReason: 'EXPIRED',
    });
  });
});
