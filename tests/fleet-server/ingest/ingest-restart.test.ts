/**
 * After a restart on the same data directory: each device's proof chain continues from the
 * stored proofs (replays stay duplicates), the latest health is back in memory, the trust policy
 * is still installed and server-held keys still sign (decrypted with the same master key).
 */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  GENESIS_PREV,
  type Health,
  type Proof,
  type ProofBody,
  proofHash,
} from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type Harness, startHarness, type TestDevice, type TestUser } from '../publish/harness.js';

function proof(d: TestDevice, seq: number, prev: string): Proof {
  const at = new Date().toISOString();
  const body: ProofBody = {
    type: 'loa-proof',
    format: 1,
    eventId: randomUUID(),
    deviceId: d.id,
    seq,
    prev,
    outcome: 'completed',
    relays: { amplifier: true },
    clockTrusted: true,
    at,
  };
  return addSignature(body, d.keys.privateKey) as Proof;
}

const health: Health = {
  at: new Date().toISOString(),
  seq: 41,
  agentVersion: '0.1.0',
  uptimeS: 1234,
  inputs: { mains: true, door: 'closed', ampFault: false },
  relays: { amplifier: false },
  onAir: null,
  bundles: [],
  clock: { trusted: true, source: 'ntp' },
};

describe('ingest and keys survive a restart', () => {
  let h: Harness;
  let dev: TestDevice;
  let editor: TestUser;
  const chain: Proof[] = [];

  beforeAll(async () => {
    h = await startHarness();
    dev = await h.device('st-02500-31', '08/02500');
    editor = await h.user('bientap.khoidong', 'editor', ['08/02500']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (proofs: Proof[]) =>
    h.api<{ results: { verdict: string }[]; ackUpToSeq: number }>(
      null,
      'POST',
      '/api/v1/ingest/proofs',
      { proofs },
      {
        authorization: dev.basic,
      },
    );

  it('stores proofs and health, installs a policy delegating a server-held key', async () => {
    let prev = GENESIS_PREV;
    for (let seq = 1; seq <= 3; seq++) {
      const p = proof(dev, seq, prev);
      chain.push(p);
      prev = proofHash(p);
    }
    expect((await post(chain)).body.ackUpToSeq).toBe(3);
    expect(
      (await h.api(null, 'POST', '/api/v1/ingest/health', health, { authorization: dev.basic })).status,
    ).toBe(200);
    const k = await h.api<{ publicKey: string }>(editor, 'POST', '/api/v1/signing-keys/me');
    await h.installTrust([{ pub: k.body.publicKey, roles: ['content'], scope: ['08/02500'] }]);
    await h.server.deps.store.flush();
  });

  it('continues each chain from the stored proofs after a restart', async () => {
    await h.restart();
    const replay = await post([chain[1] as Proof]);
    expect(replay.body.results[0]?.verdict).toBe('duplicate');
    const p4 = proof(dev, 4, proofHash(chain[2] as Proof));
    const r = await post([p4]);
    expect(r.body.results[0]?.verdict).toBe('accept');
    expect(r.body.ackUpToSeq).toBe(4);
    expect(h.svc.ingest.live(dev.id)?.health?.seq).toBe(41);
  });

  it('keeps the trust policy and signs with the stored, encrypted key', async () => {
    const t = await h.api<{ version: number }>(editor, 'GET', '/api/v1/trust');
    expect(t.body.version).toBe(1);
    const c = await h.api<ContentRecord>(editor, 'POST', '/api/v1/content/text', {
      title: 'Lịch cắt điện',
      unit: '08/02500',
      text: 'Cắt điện từ 8 giờ đến 11 giờ ngày mai.',
    });
    const b = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', {
      channel: 'xa-02500-bang-tin',
      items: [{ content: c.body.id }],
      targets: [{ unit: '08/02500' }],
    });
    const s = await h.api<BundleRecord>(editor, 'POST', `/api/v1/bundles/${b.body.id}/submit`, {
      sign: true,
    });
    expect(s.status).toBe(200);
    expect(s.body.manifest.signatures).toHaveLength(1);
    const mine = await h.api<{ key: { keyid: string } }>(editor, 'GET', '/api/v1/signing-keys/me');
    expect(s.body.manifest.signatures[0]?.keyid).toBe(mine.body.key.keyid);
  });
});
