/** Trust policy upload: verified against the pinned root; rollback, expiry and junk refused. */
import { addSignature, generateKeyPair, rawPublicKey } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';

type Err = { error: { code: string } };

describe('trust policy upload', () => {
  let h: Harness;
  let admin: TestUser;
  const someKey = rawPublicKey(generateKeyPair().publicKey).toString('base64');

  beforeAll(async () => {
    h = await startHarness();
    admin = await h.user('quantri.tin', 'administrator', ['*']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('installs newer versions, refuses an older one (rollback) and keeps the current', async () => {
    const v1 = h.policy([{ pub: someKey, roles: ['content'], scope: ['08'] }]);
    const v2 = h.policy([{ pub: someKey, roles: ['content', 'emergency'], scope: ['08'] }]);
    expect((await h.api(admin, 'PUT', '/api/v1/trust', v2)).status).toBe(200);
    const back = await h.api<Err>(admin, 'PUT', '/api/v1/trust', v1);
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('TRUST_ROLLBACK');
    expect((await h.api<{ version: number }>(admin, 'GET', '/api/v1/trust')).body.version).toBe(2);
    // the same policy again is harmless
    expect((await h.api(admin, 'PUT', '/api/v1/trust', v2)).status).toBe(200);
    expect((await h.api<unknown[]>(admin, 'GET', '/api/v1/trust/history')).body).toHaveLength(1);
  });

  it('refuses an expired policy, a tampered one and junk', async () => {
    const p = h.policy([{ pub: someKey, roles: ['content'], scope: ['08'] }]);
    const { signatures: _s, ...body } = p;
    const expired = addSignature(
      { ...body, expires: new Date(h.now() - 1000).toISOString() },
      h.root.privateKey,
    );
    const e = await h.api<Err>(admin, 'PUT', '/api/v1/trust', expired);
    expect(e.body.error.code).toBe('TRUST_EXPIRED');
    const tampered = { ...p, keys: p.keys.map((k) => ({ ...k, scope: ['01'] })) };
    const t = await h.api<Err>(admin, 'PUT', '/api/v1/trust', tampered);
    expect(t.status).toBe(422);
    expect(['SIGNATURE_INVALID', 'THRESHOLD_UNMET']).toContain(t.body.error.code);
    const junk = await h.api<Err>(admin, 'PUT', '/api/v1/trust', { type: 'loa-trust', hello: 1 });
    expect(junk.body.error.code).toBe('TRUST_MALFORMED');
    expect((await h.api<{ version: number }>(admin, 'GET', '/api/v1/trust')).body.version).toBe(2);
  });
});
