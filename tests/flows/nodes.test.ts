/**
 * Each palette node under node-red-node-test-helper, against a real fleet server on 127.0.0.1:
 * what it creates on the server, its canvas status (green/red with the error code), its output,
 * and that bad input or a token without the role leaves nothing on the server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceSubscriptions } from '@loa/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSine } from '../fleet-server/publish/harness.js';
import { capSample, type Loa, paletteNodes, startLoa } from './loa-fixture.js';
import { helper, nextError, nextInput, settled, startNodeRed, statusOf, stopNodeRed } from './nr-helper.js';

const fixture = capSample;
/** A current alert for a commune no table, code or name knows. */
const unknownArea = () =>
  fixture('vn-flood-alert.xml')
    .replace('<areaDesc>Xã Minh Quang</areaDesc>', '<areaDesc>Xã Không Có</areaDesc>')
    .replace('<value>02500</value>', '<value>99999</value>')
    .replace(/0612-01/g, '0612-51');

let loa: Loa;
const nodes = () => paletteNodes();

function flow(type: string, props: Record<string, unknown>, token: string) {
  return {
    flow: [
      { id: 's1', type: 'loa-server', name: 'Loa', url: loa.h.server.url, timeout: 30 },
      { id: 'n1', type, server: 's1', wires: [['out']], ...props },
      { id: 'out', type: 'helper' },
    ],
    creds: { s1: { token } },
  };
}

async function load(type: string, props: Record<string, unknown>, token: string) {
  const f = flow(type, props, token);
  await helper.load(nodes(), f.flow, f.creds);
  return { n: helper.getNode('n1'), out: helper.getNode('out') };
}

beforeAll(async () => {
  loa = await startLoa();
  await startNodeRed();
});
afterEach(async () => {
  await helper.unload();
});
afterAll(async () => {
  await stopNodeRed();
  await loa?.h.stop();
});

describe('loa-server', () => {
  it('keeps the token in credentials, not in the flow; a node without a token says so', async () => {
    const f = flow('loa stats', {}, loa.viewer.token);
    expect(JSON.stringify(f.flow)).not.toContain('loa_');
    await helper.load(nodes(), f.flow, {});
    const n = helper.getNode('n1');
    const st = statusOf(n, settled);
    const err = nextError(n);
    n.receive({});
    expect((await st).text).toBe('LOA_CONFIG_MISSING');
    expect(await err).toContain('mã truy cập API');
  });
});

describe('loa bulletin', () => {
  it('turns text into a spoken bulletin (and a text item) submitted for approval (editor token)', async () => {
    const { n, out } = await load(
      'loa bulletin',
      { mode: 'submit', unit: '08/02500', channel: 'tin-tuc', times: '06:00' },
      loa.editor.token,
    );
    const got = nextInput(out, 60_000);
    n.receive({
      payload: 'Thông báo lịch tiêm chủng mở rộng tháng 6 tại trạm y tế xã.',
      title: 'Tiêm chủng tháng 6',
    });
    const msg = await got;
    const bundle = msg.payload as {
      id: string;
      state: string;
      units: string[];
      manifest: { items: { id: string; kind: string }[]; schedule: { items: string[] }[] };
    };
    expect(bundle).toMatchObject({ state: 'submitted', units: ['08/02500'] });
    const contents = msg.content as { id: string; kind: string; durationMs?: number }[];
    expect(contents.map((c) => c.kind)).toEqual(['audio', 'text']);
    expect(contents[0]?.durationMs).toBeGreaterThan(1000);
    expect(bundle.manifest.items.map((i) => i.kind)).toEqual(['audio', 'text']);
    expect(bundle.manifest.schedule).toEqual([
      expect.objectContaining({ items: [contents[0]?.id], rule: { type: 'daily', times: ['06:00'] } }),
    ]);
    const stored = await loa.h.server.deps.store.bundles.get(bundle.id);
    expect(stored?.state).toBe('submitted');
  }, 60_000);

  it('text only when speaking is off', async () => {
    const { n, out } = await load(
      'loa bulletin',
      { mode: 'draft', unit: '08/02500', speak: false },
      loa.editor.token,
    );
    const got = nextInput(out);
    n.receive({ payload: 'Chữ chạy: lịch cắt điện thứ Hai.', title: 'Lịch cắt điện' });
    expect(((await got).content as { kind: string }[]).map((c) => c.kind)).toEqual(['text']);
  });

  it('uploads audio (a Buffer) as a draft', async () => {
    const file = join(loa.h.dir, 'ban-tin.wav');
    await makeSine(file, 2);
    const { n, out } = await load('loa bulletin', { mode: 'draft', unit: '08/02600' }, loa.editor.token);
    const got = nextInput(out);
    n.receive({ payload: readFileSync(file), title: 'Bản tin âm thanh', filename: 'ban-tin.wav' });
    const msg = await got;
    expect(msg.payload).toMatchObject({ state: 'draft', units: ['08/02600'] });
    expect((msg.content as { kind: string }[]).map((c) => c.kind)).toEqual(['audio']);
  });

  it('publishes where the role and the trust policy allow (submit, approve and publish signed by the token owner)', async () => {
    const { n, out } = await load(
      'loa bulletin',
      { mode: 'publish', unit: '08/02600', channel: 'thong-bao', times: '06:00,17:30', speak: false },
      loa.admin.token,
    );
    const got = nextInput(out);
    n.receive({ payload: 'Lịch họp dân thôn Bản Ba tối thứ Sáu.', title: 'Họp dân' });
    const bundle = (await got).payload as { id: string; state: string };
    expect(bundle.state).toBe('published');
    expect((await loa.h.server.deps.store.bundles.get(bundle.id))?.state).toBe('published');
  });

  it('refuses bad input and a token without the role: red status, error, nothing stored', async () => {
    const before = await loa.h.server.deps.store.bundles.count();
    const contentBefore = await loa.h.server.deps.store.content.count();
    const { n } = await load('loa bulletin', { mode: 'submit', unit: '08/02500' }, loa.viewer.token);
    let st = statusOf(n, settled);
    n.receive({ payload: 'Nội dung', title: 'Tin' });
    expect((await st).text).toBe('FORBIDDEN_ROLE');
    st = statusOf(n, settled);
    const err = nextError(n);
    n.receive({ payload: 'Nội dung', title: 'Tin', unit: 'xã Minh Quang' });
    expect((await st).text).toBe('LOA_INPUT_INVALID');
    expect(await err).toContain('mã đơn vị');
    st = statusOf(n, settled);
    n.receive({ payload: { not: 'text' }, title: 'Tin' });
    expect((await st).text).toBe('LOA_INPUT_INVALID');
    expect(await loa.h.server.deps.store.bundles.count()).toBe(before);
    expect(await loa.h.server.deps.store.content.count()).toBe(contentBefore);
  });
});

describe('loa emergency', () => {
  it('draft: a CAP draft waiting for a person, priority from the province table (risk level 4)', async () => {
    const { n, out } = await load(
      'loa emergency',
      { mode: 'draft', unit: '08/02600', riskLevel: '4', severity: 'Moderate' },
      loa.operator.token,
    );
    const got = nextInput(out);
    n.receive({ payload: 'Mưa lớn, nguy cơ sạt lở đất ở các thôn vùng cao.', title: 'Cảnh báo sạt lở' });
    const r = (await got).payload as {
      outcome: string;
      record: { units: string[]; priority: string; riskLevel: number };
    };
    expect(r.outcome).toBe('draft');
    expect(r.record).toMatchObject({ units: ['08/02600'], priority: 'emergency', riskLevel: 4 });
    expect(loa.capRecords()[0]).toMatchObject({ state: 'draft', units: ['08/02600'] });
  });

  it('send: an emergency broadcast to each unit at once (operator with a delegated key)', async () => {
    const { n, out } = await load(
      'loa emergency',
      { mode: 'send', unit: '08/02500', repeat: 2 },
      loa.operator.token,
    );
    const got = nextInput(out);
    const st = statusOf(n, settled, 60_000);
    n.receive({
      payload: 'Thông báo khẩn: nước sông Lô dâng cao, bà con di chuyển lên vùng cao.',
      title: 'Khẩn cấp lũ',
    });
    const sent = (await got).payload as { bundle: { id: string; units: string[]; emergency: boolean } }[];
    expect(sent).toHaveLength(1);
    expect(sent[0]?.bundle).toMatchObject({ units: ['08/02500'], emergency: true });
    expect((await st).fill).toBe('green');
  }, 60_000);

  it('refuses empty text and an editor token; nothing sent', async () => {
    const before = await loa.h.server.deps.store.bundles.count((b) => b.emergency === true);
    const { n } = await load('loa emergency', { mode: 'send', unit: '08/02500' }, loa.editor.token);
    let st = statusOf(n, settled);
    n.receive({ payload: '   ' });
    expect((await st).text).toBe('LOA_INPUT_INVALID');
    st = statusOf(n, settled);
    n.receive({ payload: 'Thử' });
    expect((await st).text).toBe('FORBIDDEN_ROLE');
    expect(await loa.h.server.deps.store.bundles.count((b) => b.emergency === true)).toBe(before);
  });
});

describe('loa events', () => {
  it('streams device presence from the server (no polling), with the unit', async () => {
    const { n, out } = await load('loa events', { types: 'presence,alert' }, loa.viewer.token);
    await statusOf(n, (s) => s.fill === 'green');
    const d = await loa.h.device('st-02500-31', '08/02500');
    const got = nextInput(out);
    await loa.h.connect(d, deviceSubscriptions(d.id, d.unit));
    const msg = await got;
    expect(msg.topic).toBe('presence');
    expect(msg.payload).toMatchObject({
      type: 'presence',
      deviceId: 'st-02500-31',
      unit: '08/02500',
      online: true,
    });
  });

  it('an unknown event type is a red status and an error', async () => {
    const { n } = await load('loa events', { types: 'presence,weather' }, loa.viewer.token);
    const st = await statusOf(n, (s) => s.fill === 'red');
    expect(st.text).toBe('LOA_INPUT_INVALID');
  });
});

describe('loa stats', () => {
  it('reads the report as JSON rows and as CSV for a period', async () => {
    // the text programme published above shows at 06:00 and 17:30 in 08/02600: planned on a
    // noticeboard there, not on a loudspeaker station (counted per output)
    await loa.h.device('st-02600-51', '08/02600');
    await loa.h.device('bt-02600-1', '08/02600', [], 'noticeboard');
    const vnDay = (ms: number) => new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
    const from = vnDay(Date.now());
    const to = vnDay(Date.now() + 86_400_000);
    // only slots already due count: late tomorrow (Vietnam time) on the server's clock, tomorrow's
    // two have passed, whatever the hour the test runs at
    const ahead = Date.parse(`${to}T23:00:00+07:00`) - Date.now();
    loa.h.advance(ahead);
    try {
      const { n, out } = await load('loa stats', { format: 'json' }, loa.viewer.token);
      let got = nextInput(out);
      n.receive({ from, to, unit: '08/02600' });
      const json = (await got).payload as {
        from: string;
        rows: {
          day: string;
          unit: string;
          name: string;
          output: string;
          scheduled: number;
          played: number;
          rate: number | null;
        }[];
      };
      expect(json.from).toBe(from);
      // Planned and counted per output: the programme's audio on the loudspeakers.
      const tomorrow = json.rows.filter((r) => r.day === to && r.unit === '08/02600');
      expect(tomorrow).toEqual([
        {
          day: to,
          unit: '08/02600',
          name: 'Xã Lâm Bình',
          output: 'Bảng tin',
          scheduled: 2,
          played: 0,
          rate: 0,
        },
      ]);
      got = nextInput(out);
      n.receive({ from, to, unit: '08/02600', format: 'csv' });
      const csv = await got;
      expect(String(csv.payload)).toContain(`${to},08/02600,Xã Lâm Bình,Bảng tin,2,0,0.0000`);
      expect(csv.filename).toBe(`loa-bao-cao-${from}-${to}.csv`);
    } finally {
      loa.h.advance(-ahead);
    }
  });

  it('refuses a bad date', async () => {
    const { n } = await load('loa stats', {}, loa.viewer.token);
    const st = statusOf(n, settled);
    n.receive({ from: '1/6/2026', to: '2026-06-02' });
    expect((await st).text).toBe('LOA_INPUT_INVALID');
  });
});

describe('loa cap', () => {
  it('forwards a CAP alert: a draft with the right units and priority', async () => {
    const { n, out } = await load('loa cap', {}, loa.operator.token);
    const got = nextInput(out);
    n.receive({ payload: fixture('vn-flood-alert.xml') });
    const r = (await got).payload as { outcome: string; record: { units: string[]; priority: string } };
    expect(r).toMatchObject({ outcome: 'draft', record: { units: ['08/02500'], priority: 'emergency' } });
    // the same alert again is recognised
    const again = nextInput(out);
    n.receive({ payload: fixture('vn-flood-alert.xml') });
    expect(((await again).payload as { outcome: string }).outcome).toBe('duplicate');
  });

  it('refuses an XML bomb, malformed XML, an unknown area, a token without the role; nothing stored', async () => {
    const before = loa.capRecords().length;
    const { n } = await load('loa cap', {}, loa.operator.token);
    const bomb = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&y;</alert>`;
    let st = statusOf(n, settled);
    n.receive({ payload: bomb });
    expect((await st).text).toBe('CAP_DTD_FORBIDDEN');
    st = statusOf(n, settled);
    const err = nextError(n);
    n.receive({ payload: '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</alert>' });
    expect((await st).text).toBe('CAP_MALFORMED');
    expect(await err).toContain('CAP_MALFORMED');
    st = statusOf(n, settled);
    n.receive({ payload: unknownArea() });
    expect((await st).text).toBe('CAP_AREA_UNKNOWN');
    expect(loa.capRecords().length).toBe(before);
    await helper.unload();
    const ed = await load('loa cap', {}, loa.editor.token);
    st = statusOf(ed.n, settled);
    ed.n.receive({ payload: fixture('vn-flood-update.xml') });
    expect((await st).text).toBe('FORBIDDEN_ROLE');
    expect(loa.capRecords().length).toBe(before);
  });
});
