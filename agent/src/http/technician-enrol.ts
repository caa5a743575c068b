/**
 * The technician page's enrolment: the station enrols with a server address and one-time code
 * that the technician scans from the dashboard's enrolment QR code (a camera through the page,
 * decoded in the browser by jsQR served from the station) or types. The browser script lives in
 * agent/assets/technician/ (shipped beside dist/); jsQR comes from the agent's own dependencies.
 * Nothing is fetched from elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isLoaError } from '@loa/protocol';

/** What the page shows about the station's enrolment. */
export interface EnrolState {
  deviceId: string;
  unit: string;
  status: 'active' | 'pending';
  fleetUrl: string;
}

export interface TechnicianEnrolDeps {
  /** The stored credentials, undefined while the station is not enrolled. */
  state: () => EnrolState | undefined;
  /** One enrolment round trip with these values; throws a LoaError (ENROL_*, TLS_PIN_MISMATCH…). */
  enrol: (fleetUrl: string, token: string) => Promise<EnrolState>;
}

export interface PageNote {
  text: string;
  ok: boolean;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);

/** The code's shape on the fleet server (`loaenr_` + base64url); anything else is refused unsent. */
const TOKEN_RE = /^loaenr_[A-Za-z0-9_-]{8,200}$/;

/**
 * The server address from what the technician typed or the QR code carried: an http(s) URL,
 * with the enrolment endpoint's path (`/api/v1/enrol`) and trailing slashes taken off.
 */
export function normaliseServer(input: string): string | undefined {
  const raw = input.trim();
  if (!raw || raw.length > 500) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (u.username || u.password || u.search || u.hash) return undefined;
  return `${u.origin}${u.pathname}`.replace(/\/api\/v1\/enrol\/?$/, '').replace(/\/+$/, '');
}

/** The technician's sentence for a refused enrolment, in Vietnamese, by the error's stable code. */
export function enrolFailureText(code: string, message: string, server: string): string {
  const again = 'Tạo mã mới trên trang «Đăng ký thiết bị» của máy chủ rồi quét lại.';
  switch (code) {
    case 'ENROL_TOKEN_EXPIRED':
      return `Mã đăng ký đã hết hạn. ${again}`;
    case 'ENROL_TOKEN_USED':
      return `Mã đăng ký đã được dùng hết số lần cho phép. ${again}`;
    case 'ENROL_TOKEN_REVOKED':
      return `Mã đăng ký đã bị thu hồi trên máy chủ. ${again}`;
    case 'ENROL_TOKEN_INVALID':
      return `Máy chủ ${server} không nhận mã này (gõ sai, hoặc mã của máy chủ khác). Kiểm tra lại hoặc quét mã QR.`;
    case 'DEVICE_KEY_IN_USE':
      return 'Khoá của trạm này đã đăng ký trên máy chủ cho một trạm khác. Báo quản trị viên.';
    case 'ENROL_UNREACHABLE':
      return `Không kết nối được máy chủ ${server}. Kiểm tra SIM, APN, ăng-ten (hoặc mạng nội bộ) và địa chỉ máy chủ rồi thử lại.`;
    case 'TLS_PIN_MISMATCH':
      return `Máy chủ ${server} trình ra khoá TLS khác khoá đã ghim trong tệp cấp phát: không đăng ký. Báo quản trị viên.`;
    case 'ENROL_ALREADY':
      return `${message}; không đăng ký lại. Muốn đổi danh tính trạm thì làm theo mục thay bo mạch trong hướng dẫn.`;
    default:
      return `Đăng ký không thành công: ${code}: ${message}`;
  }
}

/** The page's section: the enrolment as it stands, or the QR reader and the form. */
export function enrolSection(state: EnrolState | undefined, values: { server?: string; code?: string } = {}) {
  if (state)
    return `<section id="enrol"><h2>Đăng ký với máy chủ</h2><p class="ok">Đã đăng ký: mã trạm <strong>${esc(state.deviceId)}</strong>, đơn vị ${esc(state.unit)}, máy chủ ${esc(state.fleetUrl)}${state.status === 'pending' ? ' — <span class="bad">chờ quản trị viên duyệt trên máy chủ</span>' : ''}.</p></section>`;
  return `<section id="enrol"><h2>Đăng ký với máy chủ</h2>
<p>Trạm chưa đăng ký. Trên máy chủ, mở trang <strong>Đăng ký thiết bị</strong>, tạo mã đăng ký cho xã, rồi quét mã QR hiện ra; hoặc gõ địa chỉ máy chủ và mã đăng ký.</p>
<div id="scan" hidden><button type="button" id="scan-live">Quét mã QR</button>
<label class="filebtn">Chụp ảnh mã QR<input type="file" id="scan-photo" accept="image/*" capture="environment"></label>
<button type="button" id="scan-stop" hidden>Dừng quét</button>
<p id="scan-note" class="muted"></p><video id="scan-video" playsinline muted hidden></video></div>
<p id="scan-msg" role="status" aria-live="polite"></p>
<form method="post" action="enrol" id="enrol-form">
<p><label>Địa chỉ máy chủ<br><input name="server" type="url" required autocomplete="off" placeholder="https://loa.tinh.gov.vn" value="${esc(values.server)}"></label></p>
<p><label>Mã đăng ký<br><input name="code" required autocomplete="off" autocapitalize="off" spellcheck="false" placeholder="loaenr_…" value="${esc(values.code)}"></label></p>
<button>Đăng ký</button></form>
<script src="assets/jsqr.js"></script><script src="assets/enrol-scan.js"></script></section>`;
}

/** Checks the form and enrols; the note to show and the values to put back on a failure. */
export async function submitEnrolment(
  deps: TechnicianEnrolDeps,
  form: Record<string, unknown>,
): Promise<{ note: PageNote; values?: { server: string; code: string } }> {
  const serverIn = typeof form.server === 'string' ? form.server : '';
  const code = typeof form.code === 'string' ? form.code.trim() : '';
  const server = normaliseServer(serverIn);
  const values = { server: serverIn.slice(0, 500), code: code.slice(0, 210) };
  if (!server)
    return {
      note: { ok: false, text: 'Địa chỉ máy chủ không đúng: cần dạng https://tên-máy-chủ (như trên mã QR).' },
      values,
    };
  if (!TOKEN_RE.test(code))
    return {
      note: { ok: false, text: 'Mã đăng ký không đúng dạng: mã của Loa bắt đầu bằng «loaenr_».' },
      values,
    };
  try {
    const s = await deps.enrol(server, code);
    return {
      note: {
        ok: true,
        text:
          s.status === 'pending'
            ? `Đã gửi đăng ký tới ${server}: mã trạm ${s.deviceId}, chờ quản trị viên duyệt trên máy chủ.`
            : `Đã đăng ký với ${server}: mã trạm ${s.deviceId}, đơn vị ${s.unit}. Trạm đang kết nối máy chủ.`,
      },
    };
  } catch (e) {
    const c = isLoaError(e) ? e.code : 'ENROL_FAILED';
    return { note: { ok: false, text: enrolFailureText(c, (e as Error).message, server) }, values };
  }
}

const require = createRequire(import.meta.url);
const ASSETS: Record<string, () => string> = {
  // the pure-JS QR decoder from npm (UMD: sets window.jsQR)
  'jsqr.js': () => require.resolve('jsqr'),
  // agent/assets/technician, from src/http/ and from dist/http/ alike
  'enrol-scan.js': () => fileURLToPath(new URL('../../assets/technician/enrol-scan.js', import.meta.url)),
};
const cache = new Map<string, string>();

/** The page's scripts by name (read once); undefined for any other name. */
export async function technicianAsset(name: string): Promise<string | undefined> {
  const where = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!where) return undefined;
  let body = cache.get(name);
  if (body === undefined) {
    body = await readFile(where(), 'utf8');
    cache.set(name, body);
  }
  return body;
}
