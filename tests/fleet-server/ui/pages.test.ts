import { generateKeyPair, rawPublicKey } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Harness, loginAs, startHarness } from './harness.js';

let h: Harness;
let admin: Browser;
const ADMIN_PW = 'Quan-tri-2026!x';

beforeAll(async () => {
  h = await startHarness();
  admin = new Browser(h.server.url);
  const boot = h.server.bootstrap;
  if (!boot) throw new Error('no bootstrap admin');
  await loginAs(admin, boot.username, boot.password, ADMIN_PW);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('dashboard pages on a real server', () => {
  it('redirects anonymous visitors to the login page and rejects a wrong password in Vietnamese', async () => {
    const anon = new Browser(h.server.url);
    const r = await anon.get('/ui/fleet?unit=08');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/ui/login?next=%2Fui%2Ffleet%3Funit%3D08');
    const login = await anon.get('/ui/login');
    const html = await login.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('Đăng nhập');
    const bad = await anon.post('/ui/login', { username: 'admin', password: 'sai-mat-khau', next: '/ui/' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-error-for="password"');
    expect(badHtml).toContain('Tên đăng nhập hoặc mật khẩu không đúng.');
    const empty = await anon.post('/ui/login', { username: '', password: '', next: '/ui/' });
    expect(await empty.text()).toContain('data-error-for="username"');
  });

  it('imports units through the admin form; a bad CSV line is shown next to the field and nothing is stored', async () => {
    const csrf = await admin.csrf('/ui/admin');
    const bad = await admin.post('/ui/admin/units', {
      _csrf: csrf,
      csv: 'code,name,level,parent\n08,Tuyên Quang,province,\n2500x,Xã hỏng,commune,08\n',
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-error-for="csv"');
    expect(badHtml).toMatch(/Dòng 3/);
    expect(await h.server.deps.store.units.count()).toBe(0);
    const ok = await admin.post('/ui/admin/units', {
      _csrf: csrf,
      csv: 'code,name,level,parent\n08,Tuyên Quang,province,\n02500,Xã Sơn Dương <b>,commune,08\n02503,Xã Hồng Lạc,commune,08\n',
    });
    expect(ok.status).toBe(200);
    const html = await ok.text();
    expect(html).toContain('Đã nhập 3 đơn vị.');
    expect(html).toContain('Xã Sơn Dương &lt;b&gt;');
  });

  it('refuses a form without the CSRF token', async () => {
    const r = await admin.post('/ui/admin/units', { csv: 'code,name\n09,X\n' });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('Phiên làm việc đã hết hạn');
  });

  it('creates a user with field errors first, then a one-time password', async () => {
    const csrf = await admin.csrf('/ui/admin');
    const bad = await admin.post('/ui/admin/users', {
      _csrf: csrf,
      username: '',
      displayName: 'Nguyễn Văn A',
      role: 'editor',
      scope: '08/abc',
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-error-for="username"');
    expect(badHtml).toContain('data-error-for="scope"');
    expect(await h.server.deps.store.users.count()).toBe(1);
    const ok = await admin.post('/ui/admin/users', {
      _csrf: csrf,
      username: 'bientap',
      displayName: 'Nguyễn Văn A',
      role: 'editor',
      scope: '08/02500',
    });
    expect(ok.status).toBe(201);
    expect(await ok.text()).toMatch(/bientap: <code class="secret">[^<]{8,}<\/code>/);
  });

  it('disables, re-enables and resets a user from the admin page; the audit log can be filtered', async () => {
    const user = await h.server.deps.store.users.byUsername('bientap');
    if (!user) throw new Error('no user');
    const csrf = await admin.csrf('/ui/admin');
    const off = await admin.post(`/ui/admin/users/${user.id}/disable`, { _csrf: csrf });
    expect(off.status).toBe(303);
    expect((await h.server.deps.store.users.get(user.id))?.disabled).toBe(true);
    const html = await (await admin.get('/ui/admin')).text();
    expect(html).toMatch(/data-user="bientap"[\s\S]*?Đã khóa/);
    await admin.post(`/ui/admin/users/${user.id}/enable`, { _csrf: csrf });
    expect((await h.server.deps.store.users.get(user.id))?.disabled).toBe(false);
    const reset = await admin.post(`/ui/admin/users/${user.id}/reset`, { _csrf: csrf });
    expect(reset.status).toBe(200);
    expect(await reset.text()).toMatch(/bientap: <code class="secret">[^<]{8,}<\/code>/);
    const edit = await admin.post(`/ui/admin/users/${user.id}/edit`, {
      _csrf: csrf,
      role: 'approver',
      scope: '08/02500, 08/02503',
    });
    expect(edit.status).toBe(303);
    expect(await h.server.deps.store.users.get(user.id)).toMatchObject({
      role: 'approver',
      scope: ['08/02500', '08/02503'],
    });
    const badEdit = await admin.post(`/ui/admin/users/${user.id}/edit`, {
      _csrf: csrf,
      role: 'approver',
      scope: '08/x',
    });
    expect(badEdit.status).toBe(400);
    expect(await badEdit.text()).toContain('Mã đơn vị là các mã số nối bằng');
    const audit = await (await admin.get('/ui/admin/audit?action=user.update')).text();
    // Actions in Vietnamese (the code on hover), people by name.
    expect(audit).toContain('<td title="user.update">Sửa người dùng</td>');
    expect(audit).not.toContain('<td title="unit.import">');
    expect(audit).toContain('Người dùng: <span title=');
  });

  it('lists a pending enrolment and approves it through the form', async () => {
    const tok = await admin.api<{ token: string }>('POST', '/enrol-tokens', {
      unit: '08/02503',
      maxUses: 1,
      ttlHours: 1,
      requireApproval: true,
    });
    expect(tok.status).toBe(201);
    const kp = generateKeyPair();
    const enrol = await fetch(`${h.server.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: tok.data.token,
        publicKey: rawPublicKey(kp.publicKey).toString('base64'),
        hardware: { model: 'pi4 <script>' },
        name: 'Cụm loa chợ',
      }),
    });
    expect(enrol.status).toBe(201);
    const { deviceId } = (await enrol.json()) as { deviceId: string };
    const list = await (await admin.get('/ui/enrolments')).text();
    expect(list).toContain('Cụm loa chợ');
    expect(list).toContain('model: pi4 &lt;script&gt;');
    const csrf = await admin.csrf('/ui/enrolments');
    const r = await admin.post(`/ui/enrolments/${deviceId}/approve`, { _csrf: csrf });
    expect(r.status).toBe(303);
    expect((await h.server.deps.store.devices.get(deviceId))?.status).toBe('active');
    expect(await (await admin.get('/ui/enrolments')).text()).toContain('Không có thiết bị nào chờ kết nạp.');
  });

  it('answers 404 in Vietnamese for an unknown device', async () => {
    const r = await admin.get('/ui/devices/khong-co');
    expect(r.status).toBe(404);
    // A normal page with the layout and the menu, not bare text.
    const html = await r.text();
    expect(html).toContain('<h1>Không tìm thấy</h1>');
    expect(html).toContain('Không tìm thấy trang hoặc mục này.');
    expect(html).toContain('<nav class="main-nav"');
  });

  it('creates an enrolment token with a QR code, validating the unit', async () => {
    const csrf = await admin.csrf('/ui/enrolments');
    const bad = await admin.post('/ui/enrolments/tokens', {
      _csrf: csrf,
      unit: '08/99999',
      maxUses: '0',
      ttlHours: '24',
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-error-for="maxUses"');
    const unknown = await admin.post('/ui/enrolments/tokens', {
      _csrf: csrf,
      unit: '08/99999',
      maxUses: '3',
      ttlHours: '24',
    });
    expect(await unknown.text()).toContain('Không có đơn vị này.');
    const ok = await admin.post('/ui/enrolments/tokens', {
      _csrf: csrf,
      unit: '08/02500',
      maxUses: '3',
      ttlHours: '24',
    });
    expect(ok.status).toBe(201);
    const html = await ok.text();
    expect(html).toMatch(/<svg[^>]*role="img"/);
    expect(html).toMatch(/<path d="M\d+ \d+h1v1h-1z/);
    expect(html).toMatch(/data-token="?[^>]*>[A-Za-z0-9_-]{10,}</);
  });

  it('renders overview, fleet, device-less pages and serves local assets', async () => {
    for (const p of ['/ui/', '/ui/fleet', '/ui/enrolments', '/ui/admin', '/ui/admin/audit']) {
      const r = await admin.get(p);
      expect(r.status, p).toBe(200);
      const html = await r.text();
      expect(html, p).toContain('<nav class="main-nav"');
    }
    const audit = await (await admin.get('/ui/admin/audit')).text();
    expect(audit).toContain('unit.import');
    for (const a of [
      '/ui/assets/app.css',
      '/ui/assets/app.js',
      '/ui/vendor/leaflet/leaflet.js',
      '/ui/vendor/uplot/uPlot.iife.min.js',
      '/ui/vendor/font/400.css',
      '/ui/vendor/font/files/be-vietnam-pro-vietnamese-400-normal.woff2',
    ]) {
      const r = await admin.get(a);
      expect(r.status, a).toBe(200);
    }
    expect((await admin.get('/ui/vendor/leaflet/../package.json')).status).toBe(404);
    expect((await admin.get('/ui/vendor/font/%2e%2e/package.json')).status).toBe(404);
  });

  it('switches to English with a cookie', async () => {
    const r = await admin.get('/ui/lang/en?back=/ui/fleet');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/ui/fleet');
    const html = await (await admin.get('/ui/fleet')).text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Devices');
    await admin.get('/ui/lang/vi');
  });
});

describe('live updates over SSE', () => {
  it('opens a stream per page, greets, and refuses anonymous listeners', async () => {
    const anon = await fetch(`${h.server.url}/ui/live/overview`);
    expect(anon.status).toBe(401);
    const ctrl = new AbortController();
    const res = await fetch(`${h.server.url}/ui/live/emergency/emergency-v9`, {
      headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('event: hello');
    ctrl.abort();
  });
});
