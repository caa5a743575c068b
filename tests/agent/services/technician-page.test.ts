import { type Health, LoaError } from '@loa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../agent/src/http/password.js';
import { createTechnicianApp, isPrivateAddress } from '../../../agent/src/http/technician.js';
import { type EnrolState, normaliseServer } from '../../../agent/src/http/technician-enrol.js';
import { waitingText } from '../../../agent/src/services/station/clock.js';
import { LogRing } from '../../../agent/src/services/system/log-ring.js';
import { TechnicianPage } from '../../../agent/src/services/system/technician-page.js';
import { silent } from './helpers.js';

const health: Health = {
  at: '2026-11-26T05:00:00Z',
  seq: 1,
  agentVersion: '0.1.0',
  uptimeS: 600,
  cpuTempC: 51.2,
  inputs: { mains: false, door: 'open', ampFault: false },
  relays: { amplifier: true, zones: { cho: true } },
  onAir: { itemId: 'ban-tin-sang', kind: 'audio', since: '2026-11-26T04:59:00Z' },
  bundles: [{ channel: 'main', id: 'b1', version: 3 }],
  clock: { trusted: false, source: 'none' },
  modem: { rssiDbm: -85, operator: 'Viettel', registration: 'home' },
  proofBacklog: 2,
};

const hash = await hashPassword('ky-thuat-vien-1');
const calls: string[] = [];
const ring = new LogRing(3);
for (const i of [1, 2, 3, 4])
  ring.write(JSON.stringify({ time: 0, level: 40, msg: `dòng ${i}`, module: 'x' }));

function deps(addr: string) {
  return {
    passwordHash: () => hash,
    health: async () => health,
    recentProofs: async () => [
      {
        seq: 7,
        itemId: 'ban-tin-sang',
        outcome: 'completed',
        startedAt: '2026-11-26T04:59:00Z',
        at: '2026-11-26T05:00:00Z',
      } as never,
    ],
    logs: () => ring.lines(),
    relayTest: async (s: number) => {
      calls.push(`relay:${s}`);
    },
    testTone: async (s: number, hz: number) => {
      calls.push(`tone:${s}:${hz}`);
    },
    deviceLabel: () => 'dev-1 (08/02500)',
    clock: { now: () => Date.now() },
    clockWaiting: () =>
      waitingText({ ntp: 'not-synchronised', server: 'no-answer', modem: 'no-network-time' }),
    remoteAddress: () => addr,
  };
}

const pages: TechnicianPage[] = [];
afterEach(async () => {
  for (const p of pages.splice(0)) await p.stop();
});

describe('technician page', () => {
  it('classifies LAN and 4G addresses', () => {
    for (const a of [
      '192.168.1.20',
      '10.0.0.5',
      '172.20.1.1',
      '127.0.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:192.168.0.2',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of [
      '100.64.3.4',
      '8.8.8.8',
      '172.32.0.1',
      '2001:db8::1',
      '::ffff:1.2.3.4',
      undefined,
      'junk',
    ])
      expect(isPrivateAddress(a), String(a)).toBe(false);
  });

  it('refuses non-private peers', async () => {
    const app = createTechnicianApp(deps('100.64.10.20'));
    const res = await app.request('/login');
    expect(res.status).toBe(403);
  });

  it('needs the password, then shows status in Vietnamese and runs the relay test', async () => {
    const app = createTechnicianApp(deps('192.168.1.20'));
    expect((await app.request('/')).status).toBe(303);
    const bad = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'sai' }),
    });
    expect(bad.status).toBe(401);
    const ok = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    expect(ok.status).toBe(303);
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(ok.headers.get('set-cookie')).toContain('HttpOnly');
    const html = await (await app.request('/', { headers: { cookie } })).text();
    expect(html).toContain('Trạng thái trạm');
    expect(html).toContain('mất điện');
    expect(html).toContain('-85 dBm');
    expect(html).toContain('Viettel');
    expect(html).toContain('chưa tin cậy');
    expect(html).toContain(
      'Đang chờ đồng hồ tin cậy: đã thử NTP (chưa đồng bộ), máy chủ (chưa liên lạc được), modem (chưa có giờ mạng)',
    );
    expect(html).toContain('dòng 4');
    expect(html).not.toContain('dòng 1');
    // nothing recalled yet; the proofs' outcomes and times in Vietnamese
    expect(html).toContain('Chưa có bản tin nào bị gỡ.');
    expect(html).toContain('<td>Đã phát xong</td><td>26/11/2026 11:59</td>');
    const r = await app.request('/relay-test', { method: 'POST', headers: { cookie } });
    expect(await r.text()).toContain('Đã thử rơ-le');
    const t = await app.request('/test-tone', {
      method: 'POST',
      headers: { cookie, origin: 'http://evil.example' },
    });
    expect(t.status).toBe(403);
    expect(calls).toEqual(['relay:5']);
  });

  it('offline: lists what is held and why, marks proof times taken on an untrusted clock, and says the modem searches', async () => {
    const app = createTechnicianApp({
      ...deps('192.168.1.20'),
      health: async () => ({ ...health, modem: { rssiDbm: -97, operator: null, registration: 'searching' } }),
      recentProofs: async () =>
        [
          {
            seq: 2,
            itemId: 'lu',
            outcome: 'completed',
            startedAt: '2026-11-26T04:59:00Z',
            at: '2026-11-26T05:00:00Z',
            clockTrusted: false,
          },
        ] as never,
      held: () => [
        {
          itemId: 'ban-tin-sang',
          bundleId: 'xa-02500-v7',
          scheduledAt: Date.parse('2026-11-26T00:30:00Z'),
          reason: 'clock-untrusted',
        },
        { itemId: 'nhac', scheduledAt: Date.parse('2026-11-26T15:30:00Z'), reason: 'quiet-hours' },
      ],
    });
    const ok = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const html = await (await app.request('/', { headers: { cookie } })).text();
    expect(html).toContain('<th>Đang tạm giữ</th><td>2 mục<br>');
    expect(html).toContain(
      'ban-tin-sang (xa-02500-v7), lúc 26/11/2026 07:30: <span class="bad">chờ đồng hồ tin cậy</span>',
    );
    expect(html).toContain('nhac, lúc 26/11/2026 22:30: <span class="bad">giờ yên lặng</span>');
    expect(html).toContain('26/11/2026 11:59 <span class="bad">(đồng hồ chưa tin cậy)</span>');
    expect(html).toContain('<td>đang tìm mạng</td>');
    // nothing held: said so
    const none = createTechnicianApp({ ...deps('192.168.1.20'), held: () => [] });
    const ok2 = await none.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    const cookie2 = (ok2.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(await (await none.request('/', { headers: { cookie: cookie2 } })).text()).toContain(
      '<th>Đang tạm giữ</th><td>không</td>',
    );
  });

  it('locks logins after repeated failures', async () => {
    const app = createTechnicianApp(deps('10.1.1.1'));
    for (let i = 0; i < 5; i++)
      await app.request('/login', { method: 'POST', body: new URLSearchParams({ password: `x${i}` }) });
    const r = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    expect(r.status).toBe(429);
  });

  it('serves on a real socket bound to the configured address', async () => {
    const { remoteAddress: _r, ...d } = deps('');
    const page = new TechnicianPage({ listen: '127.0.0.1', port: 0, deps: d, logger: silent });
    pages.push(page);
    await page.start();
    const res = await fetch(`http://127.0.0.1:${page.port}/login`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Đăng nhập kỹ thuật viên');
  });

  it('lists the bundles a signed recall took off the station as "Đã gỡ", in local time', async () => {
    const app = createTechnicianApp({
      ...deps('10.0.0.5'),
      recentProofs: async () => [
        { seq: 9, itemId: 'ban-tin-sang', outcome: 'withdrawn', at: '2026-11-26T05:10:00Z' } as never,
      ],
      recalled: () => [
        {
          bundleId: 'b-cu',
          channel: 'ban-tin-sang',
          version: 4,
          reason: 'Nội dung đã cũ',
          at: '2026-11-26T05:10:00Z',
        },
      ],
    });
    const ok = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const html = await (await app.request('/', { headers: { cookie } })).text();
    expect(html).toContain(
      '<tr data-recalled="b-cu"><td>ban-tin-sang v4</td><td class="bad">Đã gỡ</td><td>Nội dung đã cũ</td><td>26/11/2026 12:10</td></tr>',
    );
    expect(html).toContain('<td class="bad">Đã gỡ</td><td>26/11/2026 12:10</td>');
    expect(html).not.toContain('Chưa có bản tin nào bị gỡ.');
  });

  it('enrols from the page: the form checked before anything is sent, server refusals in Vietnamese', async () => {
    const sent: string[] = [];
    let enrolled: EnrolState | undefined;
    const app = createTechnicianApp({
      ...deps('192.168.1.20'),
      enrolment: {
        state: () => enrolled,
        enrol: async (url, token) => {
          sent.push(`${url} ${token}`);
          if (token.endsWith('het-han'))
            throw new LoaError('ENROL_TOKEN_EXPIRED', 'mã đăng ký thiết bị đã hết hạn');
          enrolled = { deviceId: 'st-1', unit: '08/02500', status: 'pending', fleetUrl: url };
          return enrolled;
        },
      },
    });
    const ok = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: 'ky-thuat-vien-1' }),
    });
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const html = await (await app.request('/', { headers: { cookie } })).text();
    expect(html).toContain('Trạm chưa đăng ký');
    expect(html).toContain('capture="environment"');
    expect(html).toContain('<script src="assets/jsqr.js">');
    // the decoder and the page's script come from the station itself
    const jsqr = await app.request('/assets/jsqr.js', { headers: { cookie } });
    expect(jsqr.headers.get('content-type')).toContain('text/javascript');
    expect(await jsqr.text()).toContain('jsQR');
    expect(await (await app.request('/assets/enrol-scan.js', { headers: { cookie } })).text()).toContain(
      'getUserMedia',
    );
    expect((await app.request('/assets/..%2Fpassword.js', { headers: { cookie } })).status).toBe(404);
    const post = async (server: string, code: string) =>
      (
        await app.request('/enrol', {
          method: 'POST',
          headers: { cookie },
          body: new URLSearchParams({ server, code }),
        })
      ).text();
    expect(await post('ftp://loa.example', 'loaenr_abcdefghijkl')).toContain('Địa chỉ máy chủ không đúng');
    expect(await post('https://loa.example', 'abc')).toContain('bắt đầu bằng «loaenr_»');
    expect(sent).toEqual([]);
    const expired = await post('https://loa.example/api/v1/enrol', 'loaenr_abcdefgh-het-han');
    expect(expired).toContain('Mã đăng ký đã hết hạn');
    expect(expired).toContain('value="loaenr_abcdefgh-het-han"'); // the form keeps what was sent
    const done = await post('https://loa.example/', 'loaenr_abcdefghijkl');
    expect(sent).toEqual([
      'https://loa.example loaenr_abcdefgh-het-han',
      'https://loa.example loaenr_abcdefghijkl',
    ]);
    expect(done).toContain('chờ quản trị viên duyệt');
    expect(done).not.toContain('id="enrol-form"');
  });

  it('reads the server address as typed or as the QR code carries it', () => {
    expect(normaliseServer('https://loa.tuyenquang.gov.vn/api/v1/enrol')).toBe(
      'https://loa.tuyenquang.gov.vn',
    );
    expect(normaliseServer(' http://10.0.0.2:8080/loa/ ')).toBe('http://10.0.0.2:8080/loa');
    for (const bad of ['', 'loa.example', 'javascript:alert(1)', 'https://u:p@loa.example', 'https://x/?a=1'])
      expect(normaliseServer(bad), bad).toBeUndefined();
  });
});
