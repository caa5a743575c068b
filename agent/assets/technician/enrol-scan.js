// The technician page's enrolment QR reader (served by the agent; jsQR is served beside it, no
// CDN). Reads the QR code the dashboard's "Đăng ký thiết bị" page prints, {"enrol": "<server>/api/v1/enrol",
// "token": "loaenr_…"}, fills the server and code fields and submits the form; the station
// enrols from its side (POST enrol). Two ways in:
// - "Quét mã QR": the live camera (getUserMedia, rear camera preferred). Browsers allow it only
//   in a secure context (HTTPS, or localhost/127.0.0.1): not on http://<station LAN address>.
// - "Chụp ảnh mã QR": a file input with capture=environment (a phone opens its camera app); the
//   photo is decoded here. Works over plain http.
// The typed path (the form itself) works without this script.
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('enrol-form');
  const msg = $('scan-msg');
  if (!form || !msg) return;
  const say = (text, bad) => {
    msg.textContent = text;
    msg.className = bad ? 'bad' : 'ok';
  };
  if (typeof window.jsQR !== 'function') {
    say('Không tải được bộ đọc mã QR: gõ địa chỉ máy chủ và mã đăng ký.', true);
    return;
  }
  const jsQR = window.jsQR;
  const live = $('scan-live');
  const photo = $('scan-photo');
  const video = $('scan-video');
  const stopBtn = $('scan-stop');
  const note = $('scan-note');
  $('scan').hidden = false;

  const NOT_LOA =
    'Mã QR này không phải mã đăng ký Loa. Mở trang «Đăng ký thiết bị» trên máy chủ, tạo mã đăng ký rồi quét mã QR ở đó.';
  const LABEL =
    'Đây là mã trên nhãn tủ trạm (trang của trạm trên máy chủ), không phải mã đăng ký. Quét mã QR trên trang «Đăng ký thiết bị» của máy chủ.';

  /** {server, code} from a decoded QR text, or {error}. */
  const readCode = (text) => {
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      v = undefined;
    }
    if (v && typeof v === 'object' && typeof v.enrol === 'string' && typeof v.token === 'string') {
      let u;
      try {
        u = new URL(v.enrol);
      } catch {
        return { error: NOT_LOA };
      }
      if (!/^https?:$/.test(u.protocol) || !/^loaenr_[A-Za-z0-9_-]{8,}$/.test(v.token))
        return { error: NOT_LOA };
      const server = (u.origin + u.pathname).replace(/\/api\/v1\/enrol\/?$/, '').replace(/\/+$/, '');
      return { server, code: v.token };
    }
    if (/^https?:\/\/[^ ]+\/ui\/devices\/[^/?#]+/.test(text)) return { error: LABEL };
    return { error: NOT_LOA };
  };

  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  /** Decodes a QR from a video frame or an image, scaled so its longer side is at most `max` px. */
  const decode = (source, w, h, max) => {
    const k = Math.min(1, max / Math.max(w, h));
    canvas.width = Math.max(1, Math.round(w * k));
    canvas.height = Math.max(1, Math.round(h * k));
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
    return code ? code.data : undefined;
  };

  /** Fills the form from a decoded text and submits it; false (message shown) when it is not ours. */
  const use = (text) => {
    const r = readCode(text);
    if (r.error) {
      say(r.error, true);
      return false;
    }
    form.elements.server.value = r.server;
    form.elements.code.value = r.code;
    say(`Đã đọc mã đăng ký của máy chủ ${r.server}. Đang đăng ký…`);
    form.requestSubmit();
    return true;
  };

  let stream;
  let timer;
  let lastBad = '';
  const stopLive = () => {
    clearTimeout(timer);
    if (stream) for (const t of stream.getTracks()) t.stop();
    stream = undefined;
    video.srcObject = null;
    video.hidden = true;
    stopBtn.hidden = true;
    live.disabled = false;
  };

  const cameraError = (e) => {
    const n = e?.name;
    if (n === 'NotAllowedError' || n === 'SecurityError')
      return 'Quyền dùng camera bị từ chối. Cho phép camera cho trang này trong cài đặt trình duyệt rồi bấm lại, hoặc bấm «Chụp ảnh mã QR».';
    if (n === 'NotFoundError' || n === 'OverconstrainedError' || n === 'DevicesNotFoundError')
      return 'Không tìm thấy camera trên máy này. Bấm «Chụp ảnh mã QR» trên điện thoại, hoặc gõ mã.';
    if (n === 'NotReadableError' || n === 'AbortError')
      return 'Camera đang bị ứng dụng khác dùng. Đóng ứng dụng đó rồi bấm lại.';
    return `Không mở được camera (${n || 'lỗi không rõ'}). Bấm «Chụp ảnh mã QR» hoặc gõ mã.`;
  };

  const startLive = async () => {
    live.disabled = true;
    say('Đang mở camera…');
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } },
        audio: false,
      });
    } catch (e) {
      stream = undefined;
      live.disabled = false;
      say(cameraError(e), true);
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    stopBtn.hidden = false;
    await video.play().catch(() => undefined);
    say('Đưa mã QR trên màn hình máy chủ vào khung hình…');
    lastBad = '';
    const tick = () => {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        const text = decode(video, video.videoWidth, video.videoHeight, 800);
        if (text !== undefined && text !== lastBad) {
          if (use(text)) {
            stopLive();
            return;
          }
          lastBad = text; // said once; keeps looking for the right code
        }
      }
      timer = setTimeout(tick, 150);
    };
    tick();
  };

  const secure = window.isSecureContext === true;
  if (secure && navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === 'function') {
    live.addEventListener('click', () => void startLive());
    note.textContent = 'Máy có camera: bấm «Quét mã QR» rồi đưa mã vào khung hình.';
  } else {
    live.disabled = true;
    note.textContent = secure
      ? 'Trình duyệt này không mở được camera trực tiếp: bấm «Chụp ảnh mã QR».'
      : `Trang mở qua http://${location.host} (không phải HTTPS hay localhost) nên trình duyệt không cho mở camera trực tiếp. Bấm «Chụp ảnh mã QR»: điện thoại mở máy ảnh, chụp mã QR trên màn hình máy chủ, trang tự đọc ảnh.`;
  }
  stopBtn.addEventListener('click', () => {
    stopLive();
    say('Đã dừng quét.');
  });
  window.addEventListener('pagehide', stopLive);

  photo.addEventListener('change', async () => {
    const file = photo.files?.[0];
    if (!file) return;
    stopLive();
    say('Đang đọc ảnh…');
    let bmp;
    try {
      bmp = await createImageBitmap(file);
    } catch {
      photo.value = '';
      say('Không đọc được tệp ảnh này. Chụp lại mã QR.', true);
      return;
    }
    let text;
    // a phone photo is large: try a small copy first (fast), then larger ones for a small code
    for (const max of [1024, 1600, 2600]) {
      text = decode(bmp, bmp.width, bmp.height, max);
      if (text !== undefined) break;
    }
    bmp.close();
    photo.value = '';
    if (text === undefined) {
      say('Không thấy mã QR trong ảnh. Chụp gần hơn, đủ sáng, cả mã nằm gọn trong ảnh.', true);
      return;
    }
    use(text);
  });
})();
