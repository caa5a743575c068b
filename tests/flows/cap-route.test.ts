/**
 * POST /api/v1/cap and the CAP records on a real fleet server (app.request with API tokens):
 * body limits and media type, roles, the province's table (validated, administrator only), a person
 * sending or discarding a draft, tests and acknowledgements ignored, a Cancel of a draft, records
 * and table surviving a restart; and the JSON event stream filtered to the caller's units.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapRecord } from '../../fleet-server/src/domain/cap/intake.js';
import type { TestUser } from '../fleet-server/publish/harness.js';
import { capSample, type Loa, startLoa } from './loa-fixture.js';

const fixture = capSample;
const XML = { 'content-type': 'application/xml' };

interface CapAnswer {
  outcome: string;
  record: CapRecord;
  closed: CapRecord[];
}

let loa: Loa;
const post = (u: TestUser | null, xml: string, headers: Record<string, string> = XML) =>
  loa.h.api<CapAnswer & { error: { code: string } }>(
    u,
    'POST',
    '/api/v1/cap',
    new TextEncoder().encode(xml),
    headers,
  );

beforeAll(async () => {
  loa = await startLoa();
});
afterAll(async () => {
  await loa?.h.stop();
});

describe('POST /api/v1/cap', () => {
  it('refuses a wrong media type, an oversize body, no token, a role that may not send emergencies', async () => {
    const xml = fixture('vn-flood-alert.xml');
    expect((await post(loa.operator, xml, { 'content-type': 'application/json' })).body.error.code).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const big = await post(loa.operator, `${xml}<!--${'x'.repeat(300 * 1024)}-->`);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await post(null, xml)).status).toBe(401);
    const editor = await post(loa.editor, xml);
    expect(editor.status).toBe(403);
    expect(editor.body.error.code).toBe('FORBIDDEN_ROLE');
    expect(loa.capRecords()).toHaveLength(0);
  });

  it('records tests and acknowledgements without acting on them', async () => {
    const test = fixture('vn-flood-alert.xml')
      .replace('<status>Actual</status>', '<status>Test</status>')
      .replace('0612-01', '0612-T1');
    const r = await post(loa.operator, test);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'ignored', record: { state: 'ignored' } });
  });

  it('a person sends a draft (their own key), or discards it; a second send is a conflict', async () => {
    const r = await post(loa.operator, fixture('vn-flood-alert.xml'));
    expect(r.status).toBe(201);
    expect(r.body.outcome).toBe('draft');
    const id = r.body.record.id;
    const sent = await loa.h.api<CapRecord>(loa.operator, 'POST', `/api/v1/cap/alerts/${id}/send`);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ state: 'sent', sentBy: 'vanhanh.tinh', units: ['08/02500'] });
    const bundle = await loa.h.server.deps.store.bundles.get(sent.body.emergencies[0] as string);
    expect(bundle).toMatchObject({ emergency: true, units: ['08/02500'] });
    const again = await loa.h.api<{ error: { code: string } }>(
      loa.operator,
      'POST',
      `/api/v1/cap/alerts/${id}/send`,
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CAP_STATE_CONFLICT');

    const other = fixture('vn-flood-alert.xml').replace('0612-01', '0612-09');
    const d = await post(loa.operator, other);
    const discarded = await loa.h.api<CapRecord>(
      loa.operator,
      'POST',
      `/api/v1/cap/alerts/${d.body.record.id}/discard`,
    );
    expect(discarded.body.state).toBe('cancelled');
    expect(discarded.body.emergencies).toEqual([]);
  }, 60_000);

  it('a Cancel of a draft cancels it without a stop command', async () => {
    const alert = fixture('vn-flood-alert.xml').replace(/0612-01/g, '0612-21');
    await post(loa.operator, alert);
    const cancel = fixture('vn-flood-cancel.xml')
      .replace('KTTV-TQ-2026-0612-02,', 'KTTV-TQ-2026-0612-21,')
      .replace('0612-03', '0612-23');
    const before = (await loa.h.server.deps.store.audit.query({ action: 'command.send', limit: 100 })).length;
    const r = await post(loa.operator, cancel);
    expect(r.body.outcome).toBe('cancelled');
    expect(r.body.closed).toEqual([
      expect.objectContaining({ identifier: 'KTTV-TQ-2026-0612-21', state: 'cancelled' }),
    ]);
    expect(r.body.closed[0]?.stopped).toBeUndefined();
    expect((await loa.h.server.deps.store.audit.query({ action: 'command.send', limit: 100 })).length).toBe(
      before,
    );
  });

  it('a Cancel of a sent alert recalls its emergency with a signed recall', async () => {
    const alert = fixture('vn-flood-alert.xml').replace(/0612-01/g, '0612-41');
    const r = await post(loa.operator, alert);
    const sent = await loa.h.api<CapRecord>(
      loa.operator,
      'POST',
      `/api/v1/cap/alerts/${r.body.record.id}/send`,
    );
    const bundleId = sent.body.emergencies[0] as string;
    const cancel = fixture('vn-flood-cancel.xml')
      .replace('KTTV-TQ-2026-0612-02,', 'KTTV-TQ-2026-0612-41,')
      .replace('0612-03', '0612-43');
    const c = await post(loa.operator, cancel);
    expect(c.body.outcome).toBe('cancelled');
    expect(c.body.closed[0]).toMatchObject({ identifier: 'KTTV-TQ-2026-0612-41', state: 'cancelled' });
    const bundle = await loa.h.server.deps.store.bundles.get(bundleId);
    expect(bundle?.state).toBe('recalled');
    const recall = (bundle?.meta?.recall ?? {}) as {
      state?: string;
      document?: { reason: string; roles: string[] };
    };
    expect(recall.state).toBe('published');
    expect(recall.document).toMatchObject({
      reason: 'Huỷ theo cảnh báo CAP KTTV-TQ-2026-0612-43',
      roles: ['emergency'],
    });
    const audit = await loa.h.server.deps.store.audit.query({ action: 'bundle.recall', limit: 10 });
    expect(audit.some((a) => a.target?.id === bundleId)).toBe(true);
  });

  it('the province table: validated, administrators only, and it survives a restart with the records', async () => {
    const bad = await loa.h.api<{ error: { code: string } }>(loa.admin, 'PUT', '/api/v1/cap/config', {
      priorityRules: [{ priority: 'loud' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('CAP_CONFIG_INVALID');
    expect((await loa.h.api(loa.operator, 'PUT', '/api/v1/cap/config', { priorityRules: [] })).status).toBe(
      403,
    );
    const ok = await loa.h.api(loa.admin, 'PUT', '/api/v1/cap/config', {
      priorityRules: [{ riskLevelAtLeast: 5, priority: 'emergency' }],
      geocodes: { 'VN-XA': { '2600': '08/02600' } },
    });
    expect(ok.status).toBe(200);
    const count = loa.capRecords().length;
    await loa.h.restart();
    const cfg = await loa.h.api<{ geocodes: Record<string, unknown> }>(
      loa.viewer,
      'GET',
      '/api/v1/cap/config',
    );
    expect(cfg.body.geocodes).toEqual({ 'VN-XA': { '2600': '08/02600' } });
    expect(loa.capRecords()).toHaveLength(count);
    // the same alert after the restart is still a duplicate
    expect((await post(loa.operator, fixture('vn-flood-alert.xml'))).body.outcome).toBe('duplicate');
    // risk level 4 is below this table's emergency rule now
    const lower = fixture('vn-flood-alert.xml').replace(/0612-01/g, '0612-31');
    expect((await post(loa.operator, lower)).body.record.priority).toBe('normal');
  }, 60_000);
});

describe('GET /api/v1/events', () => {
  it("streams only the caller's units and refuses unknown types", async () => {
    const narrow = await loa.h.user('xem.lambinh', 'viewer', ['08/02600']);
    const bad = await loa.h.api<{ error: { code: string } }>(narrow, 'GET', '/api/v1/events?types=weather');
    expect(bad.status).toBe(400);
    const res = await fetch(`${loa.h.server.url}/api/v1/events?types=cap`, {
      headers: { authorization: `Bearer ${narrow.token}` },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = '';
    const read = async (until: (t: string) => boolean) => {
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
    };
    await read((t) => t.includes('event: hello'));
    // an alert for 08/02500 (outside this viewer's scope), then one for 08/02600
    await post(loa.operator, fixture('vn-flood-alert.xml').replace(/0612-01/g, '0612-41'));
    await post(
      loa.operator,
      fixture('vn-flood-alert.xml')
        .replace(/0612-01/g, '0612-42')
        .replace('<value>02500</value>', '<value>02600</value>'),
    );
    await read((t) => t.includes('0612-42'));
    await reader.cancel();
    expect(text).toContain('event: cap.received');
    expect(text).not.toContain('0612-41');
  });
});
