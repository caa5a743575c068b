/**
 * Technician page (hono, LAN only): status, relay test, test tone, modem signal, recent proofs
 * and logs, in Vietnamese. Password from provisioning (scrypt hash), session cookie. Requests
 * from non-private addresses are refused (the 4G side is never trusted, CGNAT included).
 * A station that is not enrolled yet enrols from here: the dashboard's enrolment QR code read by
 * the phone's or laptop's camera through the page (technician-enrol.ts), or the code typed.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock, Health, Proof } from '@loa/protocol';
import { type Context, Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { verifyPassword } from './password.js';
import {
  enrolSection,
  type PageNote,
  submitEnrolment,
  type TechnicianEnrolDeps,
  technicianAsset,
} from './technician-enrol.js';
import { lineOutSection, submitToneRoutine, type TechnicianLineOutDeps } from './technician-lineout.js';

export interface TechnicianDeps {
  passwordHash: () => string | undefined;
  health: () => Promise<Health>;
  recentProofs: () => Promise<Proof[]>;
  logs: () => readonly string[];
  relayTest: (seconds: number) => Promise<void>;
  testTone: (seconds: number, frequencyHz: number) => Promise<void>;
  deviceLabel: () => string;
  clock: Clock;
  /** While the clock is not trusted: what it waits for (sources tried), in Vietnamese. */
  clockWaiting?: () => string | undefined;
  /** Imports an uploaded bundle tar (saved to a file first); absent: no upload form. */
  importTar?: (file: File) => Promise<{ ok: boolean; text: string }>;
  /** Bundles withdrawn from this station by a signed recall (shown as "Đã gỡ"). */
  recalled?: () => readonly RecalledBundle[];
  /** Items of the programme that are due (or soon) but held, and why (the player's plan). */
  held?: () => readonly HeldItem[];
  /** The line output's profile and the test tone routine; absent: no line output section. */
  lineOut?: TechnicianLineOutDeps;
  /** Enrolment from the page (the dashboard's QR code or typed); absent: no enrolment section. */
  enrolment?: TechnicianEnrolDeps;
  /** The peer address of a request (from the node server); tests inject it. */
  remoteAddress: (c: Context) => string | undefined;
}

export interface RecalledBundle {
  bundleId: string;
  channel: string;
  version: number;
  reason: string;
  at: string;
}

/** An item the player holds: which, when it was due (its signed schedule) and why. */
export interface HeldItem {
  itemId: string;
  bundleId?: string;
  scheduledAt: number;
  reason: 'quiet-hours' | 'clock-untrusted' | 'too-late' | 'not-yet-valid' | 'expired' | 'opted-out';
}

/** Why an item is held, in Vietnamese. */
const HELD_REASON: Record<HeldItem['reason'], string> = {
  'clock-untrusted': 'chờ đồng hồ tin cậy',
  'quiet-hours': 'giờ yên lặng',
  'too-late': 'quá giờ, bỏ qua',
  'not-yet-valid': 'chưa đến thời gian hiệu lực',
  expired: 'đã hết hạn',
  'opted-out': 'xã không nhận mục này',
};

/** The modem's network registration in Vietnamese. */
const REGISTRATION: Record<string, string> = {
  home: 'đã đăng ký mạng',
  roaming: 'đã đăng ký (chuyển vùng)',
  searching: 'đang tìm mạng',
  denied: 'bị mạng từ chối',
  'not-registered': 'chưa đăng ký mạng',
  unknown: 'không rõ',
};

/** A proof's outcome in Vietnamese. */
const OUTCOME: Record<Proof['outcome'], string> = {
  started: 'Bắt đầu phát',
  completed: 'Đã phát xong',
  interrupted: 'Bị ngắt',
  failed: 'Lỗi',
  skipped: 'Bỏ qua',
  withdrawn: 'Đã gỡ',
};

/** An instant on the Vietnamese clock (UTC+07:00 all year): "26/11/2026 12:00". */
export function vnTime(iso: string | undefined): string {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms + 7 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** Private, loopback and link-local addresses; CGNAT (100.64/10, the 4G side) is not private. */
export function isPrivateAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  let a = addr.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  if (isIP(a) === 4) {
    const [x, y] = a.split('.').map(Number) as [number, number];
    return (
      x === 10 ||
      x === 127 ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      (x === 169 && y === 254)
    );
  }
  if (isIP(a) === 6) return a === '::1' || /^f[cd][0-9a-f]{2}:/.test(a) || /^fe[89ab][0-9a-f]:/.test(a);
  return false;
}

const COOKIE = 'loa_tech';
const SESSION_MS = 8 * 3600_000;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (v: unknown) => String(v ?? '—').replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b2430}header{background:#14532d;color:#fff;padding:12px 16px}
main{padding:16px;max-width:1000px;margin:auto}section{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left;font-size:14px}
.ok{color:#15803d}.bad{color:#b91c1c}button{padding:8px 14px;margin:4px;border:0;border-radius:6px;background:#1d4ed8;color:#fff;font-size:15px}
pre{white-space:pre-wrap;font-size:12px;max-height:320px;overflow:auto;background:#111827;color:#e5e7eb;padding:8px;border-radius:6px}
input{padding:8px;font-size:15px;max-width:100%;box-sizing:border-box}input[type=url],input[name=code]{width:28em}
.muted{color:#4b5563;font-size:14px}.filebtn{display:inline-block;padding:8px 14px;margin:4px;border-radius:6px;background:#1d4ed8;color:#fff;font-size:15px}
.filebtn input{display:block;max-width:14em;font-size:12px;padding:4px 0 0}button:disabled{background:#9ca3af}
video{display:block;width:100%;max-width:480px;margin:8px 0;border-radius:6px;background:#000}video[hidden]{display:none}</style></head><body><header><strong>Loa</strong> · ${esc(title)}</header><main>${body}</main></body></html>`;
}

/** The held items, at most five, each with its due time (Vietnam) and reason; "không" when none. */
function heldText(held: readonly HeldItem[]): string {
  if (held.length === 0) return 'không';
  const rows = held
    .slice(0, 5)
    .map(
      (h) =>
        `<span data-held="${esc(h.itemId)}">${esc(h.itemId)}${h.bundleId ? ` (${esc(h.bundleId)})` : ''}, lúc ${esc(vnTime(new Date(h.scheduledAt).toISOString()))}: <span class="bad">${esc(HELD_REASON[h.reason] ?? h.reason)}</span></span>`,
    );
  return `${held.length} mục<br>${rows.join('<br>')}${held.length > 5 ? `<br>… và ${held.length - 5} mục khác` : ''}`;
}

const yesNo = (v: boolean | null | undefined, yes: string, no: string) =>
  v === null || v === undefined ? '—' : v ? yes : no;

function statusBody(
  h: Health,
  proofs: Proof[],
  logs: readonly string[],
  label: string,
  note?: PageNote,
  clockWaiting?: string,
  recalled: readonly RecalledBundle[] = [],
  enrol = '',
  lineOut = '',
  held: readonly HeldItem[] = [],
): string {
  const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;
  const zones = Object.entries(h.relays.zones ?? {})
    .map(([z, on]) => `${esc(z)}: ${on ? 'bật' : 'tắt'}`)
    .join(', ');
  const m = h.modem;
  return `${note ? `<section id="note" class="${note.ok ? 'ok' : 'bad'}">${esc(note.text)}</section>` : ''}${enrol}
<section><h2>Trạng thái trạm</h2><table>
${row('Trạm', esc(label))}
${row('Phiên bản', esc(h.agentVersion))}
${row('Thời gian hoạt động', `${Math.round(h.uptimeS / 60)} phút`)}
${row('Nhiệt độ CPU', h.cpuTempC === undefined ? '—' : `${h.cpuTempC} °C`)}
${row('Tải / bộ nhớ', `${h.load1 ?? '—'} · ${h.memUsedMb ?? '—'}/${h.memTotalMb ?? '—'} MB`)}
${row('Dung lượng trống', h.diskFreeMb === undefined ? '—' : `${h.diskFreeMb} MB`)}
${row('Đồng hồ', h.clock.trusted ? `<span class="ok">tin cậy (${esc(h.clock.source)})</span>` : `<span class="bad">chưa tin cậy: lịch thường đang tạm giữ, tin khẩn cấp vẫn phát</span>${clockWaiting ? `<br>${esc(clockWaiting)}` : ''}`)}
${row('Bản tin', h.bundles.map((b) => `${esc(b.channel)} v${b.version}`).join(', ') || 'chưa có')}
${row('Đang tạm giữ', heldText(held))}
${row('Chứng từ chờ gửi', esc(h.proofBacklog ?? 0))}
${row('USB', h.usbImport ? (h.usbImport.ok ? `<span class="ok">đã nhập ${esc(h.usbImport.channel ?? '')} v${esc(h.usbImport.version ?? '—')} từ ${esc(h.usbImport.file)}</span>` : `<span class="bad">từ chối ${esc(h.usbImport.file)}: ${esc(h.usbImport.code ?? '')}</span>`) : 'chưa cắm')}
${row('Lỗi gần nhất', h.lastError ? `<span class="bad">${esc(h.lastError.code)}: ${esc(h.lastError.message)}</span>` : 'không')}
</table></section>
<section><h2>Phát thanh</h2><table>
${row('Đang phát', h.onAir ? `${esc(h.onAir.itemId ?? h.onAir.kind)} (từ ${esc(h.onAir.since)})` : 'không')}
${row('Âm lượng', esc(h.volume))}
${row('Rơ-le khuếch đại', h.relays.amplifier ? '<span class="ok">bật</span>' : 'tắt')}
${row('Vùng loa', zones || '—')}
${row('Điện lưới', yesNo(h.inputs.mains, '<span class="ok">có điện</span>', '<span class="bad">mất điện</span>'))}
${row('Cửa tủ', h.inputs.door === 'open' ? '<span class="bad">mở</span>' : h.inputs.door === 'closed' ? 'đóng' : '—')}
${row('Lỗi khuếch đại', yesNo(h.inputs.ampFault, '<span class="bad">có lỗi</span>', 'bình thường'))}
</table>
<form method="post" action="relay-test" style="display:inline"><button>Thử rơ-le (5 giây)</button></form>
<form method="post" action="test-tone" style="display:inline"><button>Phát âm thử 1 kHz (5 giây)</button></form>
<form method="post" action="import" enctype="multipart/form-data"><label>Nạp tệp bản tin (.tar, như trên USB) <input type="file" name="bundle" accept=".tar"></label> <button>Nạp</button></form></section>
${lineOut}
<section><h2>Modem 4G</h2><table>
${m ? `${row('Tín hiệu', m.rssiDbm === null ? '—' : `${m.rssiDbm} dBm`)}${row('Nhà mạng', esc(m.operator))}${row('Đăng ký mạng', esc(REGISTRATION[m.registration] ?? m.registration))}${row('ICCID', esc(m.iccid))}` : row('Modem', 'không có hoặc chưa đọc được')}
</table></section>
<section><h2>Bản tin đã gỡ</h2>${
    recalled.length === 0
      ? '<p>Chưa có bản tin nào bị gỡ.</p>'
      : `<table><tr><th>Kênh</th><th>Trạng thái</th><th>Lý do</th><th>Lúc</th></tr>${recalled
          .map(
            (r) =>
              `<tr data-recalled="${esc(r.bundleId)}"><td>${esc(r.channel)} v${r.version}</td><td class="bad">Đã gỡ</td><td>${esc(r.reason)}</td><td>${esc(vnTime(r.at))}</td></tr>`,
          )
          .join('')}</table>`
  }</section>
<section><h2>Chứng từ phát gần đây</h2><table><tr><th>#</th><th>Mục</th><th>Kết quả</th><th>Bắt đầu</th><th>Độ lớn</th></tr>
${proofs
  .slice()
  .reverse()
  .map(
    (p) =>
      `<tr><td>${p.seq}</td><td>${esc(p.itemId)}</td><td${p.outcome === 'withdrawn' || p.outcome === 'failed' ? ' class="bad"' : ''}>${esc(OUTCOME[p.outcome] ?? p.outcome)}</td><td>${esc(vnTime(p.startedAt ?? p.at))}${p.clockTrusted === false ? ' <span class="bad">(đồng hồ chưa tin cậy)</span>' : ''}</td><td>${p.loudnessLufs === undefined ? '—' : `${p.loudnessLufs} LUFS`}</td></tr>`,
  )
  .join('')}</table></section>
<section><h2>Nhật ký</h2><pre>${esc(logs.slice(-100).join('\n'))}</pre></section>`;
}

/** Largest bundle tar the page takes (the body is held in memory while it is parsed). */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export function createTechnicianApp(deps: TechnicianDeps): Hono {
  const app = new Hono();
  const sessions = new Map<string, number>();
  let failures = 0;
  let lockedUntil = 0;

  app.use('*', async (c, next) => {
    if (!isPrivateAddress(deps.remoteAddress(c))) return c.text('Chỉ truy cập từ mạng nội bộ (LAN).', 403);
    c.header('cache-control', 'no-store');
    c.header('x-frame-options', 'DENY');
    c.header('content-security-policy', "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'");
    await next();
  });

  const authed = (c: Context) => {
    const t = getCookie(c, COOKIE);
    const exp = t ? sessions.get(t) : undefined;
    return exp !== undefined && exp > deps.clock.now();
  };

  app.get('/login', (c) => {
    const note = deps.passwordHash()
      ? ''
      : '<p class="bad">Chưa đặt mật khẩu kỹ thuật viên trong tệp cấp phát.</p>';
    return c.html(
      page(
        'Đăng nhập kỹ thuật viên',
        `<section>${note}<form method="post" action="login"><label>Mật khẩu <input type="password" name="password" autofocus></label> <button>Đăng nhập</button></form></section>`,
      ),
    );
  });

  app.post('/login', async (c) => {
    const hash = deps.passwordHash();
    const now = deps.clock.now();
    if (now < lockedUntil)
      return c.html(
        page('Đăng nhập', '<section class="bad">Sai quá nhiều lần, thử lại sau 1 phút.</section>'),
        429,
      );
    const form = await c.req.parseBody();
    const pw = typeof form.password === 'string' ? form.password : '';
    if (!hash || !(await verifyPassword(pw, hash))) {
      if (++failures >= 5) {
        lockedUntil = now + 60_000;
        failures = 0;
      }
      return c.html(
        page(
          'Đăng nhập',
          '<section class="bad">Mật khẩu không đúng.</section><p><a href="login">Thử lại</a></p>',
        ),
        401,
      );
    }
    failures = 0;
    const token = randomBytes(24).toString('base64url');
    for (const [t, exp] of sessions) if (exp <= now) sessions.delete(t);
    if (sessions.size >= 32) sessions.delete(sessions.keys().next().value as string);
    sessions.set(token, now + SESSION_MS);
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_MS / 1000 });
    return c.redirect('./', 303);
  });

  app.use('*', async (c, next) => {
    if (!authed(c)) return c.redirect('login', 303);
    if (c.req.method === 'POST') {
      const origin = c.req.header('origin');
      if (origin && new URL(origin).host !== c.req.header('host'))
        return c.text('Yêu cầu bị từ chối (nguồn khác).', 403);
    }
    await next();
  });

  const render = async (
    c: Context,
    note?: string | PageNote,
    enrolValues?: { server?: string; code?: string },
    toneSteps?: Parameters<typeof lineOutSection>[1],
  ) =>
    c.html(
      page(
        'Trạm loa',
        statusBody(
          await deps.health(),
          await deps.recentProofs(),
          deps.logs(),
          deps.deviceLabel(),
          typeof note === 'string' ? { text: note, ok: true } : note,
          deps.clockWaiting?.(),
          deps.recalled?.() ?? [],
          deps.enrolment ? enrolSection(deps.enrolment.state(), enrolValues) : '',
          lineOutSection(deps.lineOut, toneSteps),
          deps.held?.() ?? [],
        ),
      ),
    );

  app.get('/', (c) => render(c));
  app.get('/assets/:name', async (c) => {
    const body = await technicianAsset(c.req.param('name'));
    if (body === undefined) return c.text('Không có tệp này.', 404);
    c.header('content-type', 'text/javascript; charset=utf-8');
    return c.body(body);
  });
  app.post('/enrol', async (c) => {
    if (!deps.enrolment) return render(c, { text: 'Trạm này không đăng ký từ trang kỹ thuật.', ok: false });
    const r = await submitEnrolment(deps.enrolment, await c.req.parseBody());
    return render(c, r.note, r.values);
  });
  app.get('/api/status', async (c) => c.json(await deps.health()));
  app.post('/relay-test', async (c) => {
    try {
      await deps.relayTest(5);
      return render(c, 'Đã thử rơ-le: khuếch đại bật rồi tắt.');
    } catch (e) {
      return render(c, { text: `Thử rơ-le thất bại: ${(e as Error).message}`, ok: false });
    }
  });
  app.post('/import', async (c) => {
    if (!deps.importTar) return render(c, { text: 'Trạm này không nhận tệp tải lên.', ok: false });
    const declared = Number(c.req.header('content-length') ?? '0');
    if (declared > MAX_UPLOAD_BYTES)
      return render(c, { text: `Tệp lớn hơn ${MAX_UPLOAD_BYTES / 1048576} MB.`, ok: false });
    const form = await c.req.parseBody();
    const file = form.bundle;
    if (!(file instanceof File) || file.size === 0)
      return render(c, { text: 'Chưa chọn tệp .tar.', ok: false });
    const r = await deps.importTar(file);
    return render(c, { text: r.text, ok: r.ok });
  });
  // The same routine for `loa-agent --test-tone` (a technician on the station's shell): JSON.
  app.post('/api/tone-routine', async (c) => {
    if (!deps.lineOut)
      return c.json({ code: 'TONE_ROUTINE_UNAVAILABLE', message: 'Trạm này không có chuỗi âm thử.' }, 404);
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    try {
      const steps = await deps.lineOut.run({
        referenceS: Number(body?.referenceS ?? 10),
        leftRight: body?.leftRight === true,
        sweep: body?.sweep === true,
      });
      return c.json({ profile: deps.lineOut.profile, steps });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'TONE_ROUTINE_FAILED';
      return c.json({ code, message: (e as Error).message }, code === 'EMERGENCY_ON_AIR' ? 409 : 400);
    }
  });
  app.post('/tone-routine', async (c) => {
    if (!deps.lineOut) return render(c, { text: 'Trạm này không có chuỗi âm thử.', ok: false });
    const r = await submitToneRoutine(deps.lineOut, await c.req.parseBody());
    return render(c, r.note, undefined, r.steps);
  });
  app.post('/test-tone', async (c) => {
    try {
      await deps.testTone(5, 1000);
      return render(c, 'Đã phát âm thử 1 kHz.');
    } catch (e) {
      return render(c, { text: `Phát âm thử thất bại: ${(e as Error).message}`, ok: false });
    }
  });
  return app;
}
