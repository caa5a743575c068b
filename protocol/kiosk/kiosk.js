// The noticeboard page: renders the ScreenState the agent pushes (server-sent events), reports
// each frame it actually shows (first frame painted) and every render error, and beats every
// two seconds so the agent's watchdog can tell a live page from a frozen one. No network beyond
// the local kiosk server; nothing here may leave the screen blank.
// With `?preview` in its address (the fleet server's live preview in the dashboard), the same
// code renders the ScreenState the embedding page posts to it (postMessage, same origin only),
// and opens no event stream and reports nothing.

(() => {
  const API = '/kiosk/api';
  const PREVIEW = new URLSearchParams(location.search).has('preview');
  const MEDIA_TIMEOUT_MS = 10_000;
  const MIN_PAGE_MS = 4000;
  const WEEKDAYS = ['Chủ Nhật', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy'];

  const $ = (id) => document.getElementById(id);
  const main = $('main');
  const overlay = $('overlay');
  let state = null;
  let shownKey = null;
  let overlayKey = null;
  let frames = 0;
  let overlayTimer = null;
  let tickerKey = '';
  let tickerAnim = null;
  let renderSeq = 0;
  const alerts = new Set();

  const nowMs = () => performance.timeOrigin + performance.now();

  function post(body) {
    if (PREVIEW) {
      // the dashboard shows what the board would report (pages, text too long, media errors)
      if (window.parent !== window && body.type !== 'heartbeat')
        window.parent.postMessage({ type: 'loa-preview-report', report: body }, location.origin);
      return Promise.resolve();
    }
    return fetch(`${API}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      keepalive: true,
    }).catch(() => undefined);
  }

  /** Resolves after the content has been painted: the next frame after the next frame. */
  function painted() {
    return new Promise((resolve) =>
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(nowMs()))),
    );
  }

  function countFrames() {
    frames++;
    requestAnimationFrame(countFrames);
  }
  requestAnimationFrame(countFrames);

  function alertOnce(code, message, extra) {
    if (alerts.has(code + (extra?.key ?? ''))) return;
    alerts.add(code + (extra?.key ?? ''));
    post({ type: 'alert', code, message, ...(extra ?? {}) });
  }

  // --- clock and date (the agent's clock and UTC offset, not the browser's time zone) ---
  function offsetMs(off) {
    const m = /^([+-])(\d\d):(\d\d)$/.exec(off || '+07:00');
    if (!m) return 7 * 3600_000;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  }
  function tickClock() {
    const skew = state ? state.clockSkewMs : 0;
    const d = new Date(Date.now() + skew + offsetMs(state?.utcOffset));
    const p = (n) => String(n).padStart(2, '0');
    const time = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
    $('time').textContent = time;
    $('idle-time').textContent = time;
    $('date').textContent =
      `${WEEKDAYS[d.getUTCDay()]}, ${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
  }
  setInterval(tickClock, 1000);

  // --- fitting text: shrink to fit down to a minimum size, past that paginate, never clip ---
  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }

  /** Largest font size in [minPx, maxPx] at which `el` shows all its text; undefined if none. */
  function fitSize(el, minPx, maxPx) {
    el.style.fontSize = `${minPx}px`;
    if (overflows(el)) return undefined;
    let lo = minPx;
    let hi = maxPx;
    el.style.fontSize = `${hi}px`;
    if (!overflows(el)) return hi;
    while (hi - lo > 0.5) {
      const mid = (lo + hi) / 2;
      el.style.fontSize = `${mid}px`;
      if (overflows(el)) hi = mid;
      else lo = mid;
    }
    el.style.fontSize = `${lo}px`;
    return lo;
  }

  /** Splits `text` into pages that each fit `el` at its current font size (binary search per page). */
  function paginate(el, text) {
    const words = text.split(/(\s+)/).filter((w) => w.length > 0);
    const pages = [];
    let start = 0;
    while (start < words.length && pages.length < 500) {
      let lo = start + 1;
      let hi = words.length;
      el.textContent = words.slice(start, hi).join('');
      if (!overflows(el)) {
        pages.push(words.slice(start).join('').trim());
        break;
      }
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        el.textContent = words.slice(start, mid).join('');
        if (overflows(el)) hi = mid;
        else lo = mid;
      }
      // One word alone wider than the box still goes on its own page (it wraps inside the word).
      pages.push(words.slice(start, lo).join('').trim());
      start = lo;
      while (start < words.length && /^\s+$/.test(words[start])) start++;
    }
    return pages.filter((p) => p.length > 0);
  }

  /**
   * Fits `text` into `el` (inside a fixed box): the largest size between min and max, else pages
   * at the minimum size shown in turn within `durationMs`. Returns the number of pages.
   */
  function fitOrPaginate(el, pageEl, text, minPx, maxPx, durationMs, onTooLong) {
    el.textContent = text;
    pageEl.textContent = '';
    if (fitSize(el, minPx, maxPx) !== undefined) return { pages: 1, stop: () => undefined };
    el.style.fontSize = `${minPx}px`;
    // The page number takes its line before measuring, so the pages fit the box it leaves.
    pageEl.textContent = 'Trang 1/1';
    const pages = paginate(el, text);
    const perPage = Math.max(MIN_PAGE_MS, Math.floor(durationMs / Math.max(1, pages.length)));
    if (pages.length * MIN_PAGE_MS > durationMs) onTooLong(pages.length);
    let i = 0;
    const show = () => {
      el.textContent = pages[i];
      pageEl.textContent = `Trang ${i + 1}/${pages.length}`;
    };
    show();
    const timer = setInterval(() => {
      i = (i + 1) % pages.length;
      show();
    }, perPage);
    return { pages: pages.length, stop: () => clearInterval(timer) };
  }

  // --- main area ---
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fallbackCard(frame, code, message) {
    const card = el('section', 'card fallback layer');
    card.lang = 'vi';
    card.appendChild(el('div', 'fb-title', frame ? frame.title : 'Bảng tin điện tử'));
    card.appendChild(el('div', 'fb-msg', message));
    card.appendChild(el('div', 'fb-code', `${state?.unitName ?? ''} · ${code}`));
    return card;
  }

  function withTimeout(promise, ms, code) {
    return Promise.race([
      promise,
      new Promise((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error('media timeout'), { code })), ms),
      ),
    ]);
  }

  async function buildImage(frame) {
    const img = el('img', 'media layer');
    img.alt = frame.title;
    img.src = frame.mediaUrl;
    try {
      await withTimeout(img.decode(), MEDIA_TIMEOUT_MS, 'DISPLAY_MEDIA_TIMEOUT');
    } catch (err) {
      // DOMException has a numeric legacy `code`: only our own string codes pass through.
      const code = typeof err.code === 'string' ? err.code : 'DISPLAY_IMAGE_DECODE';
      throw Object.assign(new Error(`image: ${err.message}`), { code });
    }
    return { node: img };
  }

  async function buildVideo(frame, attach) {
    const v = el('video', 'media layer');
    v.muted = !frame.sound;
    v.playsInline = true;
    v.loop = true;
    v.preload = 'auto';
    v.src = frame.mediaUrl;
    attach(v);
    const ready = new Promise((resolve, reject) => {
      v.addEventListener('error', () =>
        reject(
          Object.assign(new Error(`video: ${v.error?.message || `error ${v.error?.code}`}`), {
            code: 'DISPLAY_VIDEO_DECODE',
          }),
        ),
      );
      v.addEventListener('playing', () => {
        if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(() => resolve());
        else resolve();
      });
    });
    v.play().catch(() => undefined);
    await withTimeout(ready, MEDIA_TIMEOUT_MS, 'DISPLAY_MEDIA_TIMEOUT');
    return { node: v, attached: true };
  }

  function buildBulletin(frame, attach) {
    const card = el('article', 'bulletin layer');
    card.lang = frame.lang || 'vi';
    const h1 = el('h1', '', frame.title);
    const box = el('div', 'b-box');
    const body = el('div', 'b-body');
    box.appendChild(body);
    const foot = el('footer', 'b-foot');
    const meta = el('div', 'b-meta');
    meta.appendChild(el('span', 'b-unit', frame.unit));
    meta.appendChild(el('span', 'b-date', `Ngày ${frame.dateLabel}`));
    const page = el('span', 'page-no');
    meta.appendChild(page);
    foot.appendChild(meta);
    if (frame.qrSvg) {
      const qr = el('div', 'b-qr');
      qr.appendChild(el('span', '', 'Xem chi tiết'));
      const holder = el('div', 'qr-code');
      holder.innerHTML = frame.qrSvg;
      qr.appendChild(holder);
      foot.appendChild(qr);
    }
    card.append(h1, box, foot);
    attach(card);
    // Title: at most a quarter of the card, never below the body's minimum size.
    const vh = window.innerHeight / 100;
    const minPx = state.minFontPx;
    h1.style.fontSize = `${6 * vh}px`;
    while (h1.offsetHeight > card.clientHeight * 0.25 && Number.parseFloat(h1.style.fontSize) > minPx * 1.2)
      h1.style.fontSize = `${Number.parseFloat(h1.style.fontSize) * 0.9}px`;
    const remaining = Math.max(MIN_PAGE_MS, frame.end - (Date.now() + state.clockSkewMs));
    const fit = fitOrPaginate(body, page, frame.text ?? '', minPx, 9 * vh, remaining, (n) =>
      alertOnce('DISPLAY_TEXT_TOO_LONG', `text needs ${n} pages for ${Math.round(remaining / 1000)} s`, {
        key: frame.key,
        itemId: frame.itemId,
      }),
    );
    return { node: card, attached: true, stop: fit.stop, pages: fit.pages };
  }

  let current = null;

  function swapIn(node) {
    for (const child of [...main.children]) if (child.id !== 'idle' && child !== node) child.remove();
    $('idle').hidden = true;
    if (node.parentNode !== main) main.appendChild(node);
  }

  async function showFrame(frame) {
    const seq = ++renderSeq;
    if (current?.stop) current.stop();
    if (!frame) {
      for (const child of [...main.children]) if (child.id !== 'idle') child.remove();
      $('idle').hidden = false;
      current = null;
      shownKey = null;
      return;
    }
    // New content is built hidden on top of the old one, then the old one goes.
    const attach = (node) => {
      node.style.visibility = 'hidden';
      main.appendChild(node);
    };
    let built;
    try {
      if (frame.kind === 'image') built = await buildImage(frame);
      else if (frame.kind === 'video') built = await buildVideo(frame, attach);
      else built = buildBulletin(frame, attach);
    } catch (err) {
      if (seq !== renderSeq) return;
      const code = typeof err.code === 'string' ? err.code : 'DISPLAY_RENDER_FAILED';
      const msg =
        frame.kind === 'video'
          ? 'Không phát được video này. Nội dung sẽ được thay thế.'
          : frame.kind === 'image'
            ? 'Không hiển thị được hình ảnh này. Nội dung sẽ được thay thế.'
            : 'Không hiển thị được bản tin này.';
      const card = fallbackCard(frame, code, msg);
      swapIn(card);
      current = { frame, node: card };
      shownKey = frame.key;
      const at = await painted();
      post({
        type: 'error',
        layer: 'main',
        key: frame.key,
        code,
        message: String(err.message).slice(0, 400),
        at,
      });
      return;
    }
    if (seq !== renderSeq) {
      built.stop?.();
      built.node.remove();
      return;
    }
    built.node.style.visibility = '';
    swapIn(built.node);
    current = { frame, node: built.node, stop: built.stop };
    shownKey = frame.key;
    const at = await painted();
    if (seq !== renderSeq) return;
    post({ type: 'rendered', layer: 'main', key: frame.key, at, pages: built.pages ?? 1 });
  }

  // --- ticker ---
  function showTicker(lines, speed) {
    const key = lines.map((l) => l.key + l.text).join('|');
    if (key === tickerKey) return;
    tickerKey = key;
    const bar = $('ticker');
    const track = $('ticker-track');
    tickerAnim?.cancel();
    track.textContent = '';
    if (lines.length === 0) {
      bar.hidden = true;
      return;
    }
    bar.hidden = false;
    lines.forEach((l, i) => {
      if (i > 0) track.appendChild(el('span', 'ticker-sep', '◆'));
      const s = el('span', 'ticker-item', l.text);
      s.lang = 'vi';
      track.appendChild(s);
    });
    const from = bar.clientWidth;
    const to = -track.scrollWidth;
    const ms = ((from - to) / Math.max(20, speed)) * 1000;
    tickerAnim = track.animate(
      [{ transform: `translate(${from}px, -50%)` }, { transform: `translate(${to}px, -50%)` }],
      { duration: ms, iterations: Number.POSITIVE_INFINITY },
    );
  }

  // --- emergency overlay ---
  async function showOverlay(em) {
    overlayTimer?.stop();
    overlayTimer = null;
    if (!em) {
      overlay.hidden = true;
      overlayKey = null;
      return;
    }
    if (overlayKey === em.key) return;
    overlayKey = em.key;
    overlay.lang = em.lang || 'vi';
    $('overlay-title').textContent = em.title;
    overlay.hidden = false;
    const vh = window.innerHeight / 100;
    overlayTimer = fitOrPaginate(
      $('overlay-text'),
      $('overlay-page'),
      em.text ?? '',
      Math.max(state.minFontPx, 4 * vh),
      11 * vh,
      60_000,
      () => undefined,
    );
    const at = await painted();
    if (overlayKey !== em.key) return;
    post({ type: 'rendered', layer: 'emergency', key: em.key, at, pages: overlayTimer.pages });
  }

  // --- state ---
  function apply(next) {
    if (state && next.rev <= state.rev) return;
    const prev = state;
    state = next;
    document.body.className = `layout-${next.layout}`;
    $('unit').textContent = next.unitName;
    $('idle-unit').textContent = next.unitName;
    tickClock();
    // The overlay first: an emergency never waits for the main area.
    if ((prev?.emergency?.key ?? null) !== (next.emergency?.key ?? null) || !prev)
      void showOverlay(next.emergency);
    showTicker(next.ticker, next.tickerSpeed);
    if ((prev?.frame?.key ?? null) !== (next.frame?.key ?? null) || !prev) void showFrame(next.frame);
  }

  async function fontCheck() {
    try {
      const faces = await document.fonts.load('700 20px LoaSans', 'Việt Nam ỆẪỸđƯơ');
      const ok = faces.length > 0 && faces.every((f) => f.status === 'loaded');
      if (ok) return;
    } catch {
      // reported below
    }
    document.documentElement.classList.add('font-fallback');
    const n = $('notice');
    n.textContent = 'Thiếu phông chữ tiếng Việt: đang dùng phông dự phòng';
    n.hidden = false;
    alertOnce('DISPLAY_FONT_MISSING', 'the local Vietnamese font did not load; a fallback font is used');
  }

  window.addEventListener('error', (e) => {
    alertOnce('DISPLAY_SCRIPT_ERROR', String(e.message).slice(0, 400));
  });
  window.addEventListener('unhandledrejection', (e) => {
    alertOnce('DISPLAY_SCRIPT_ERROR', String(e.reason?.message ?? e.reason).slice(0, 400));
  });

  setInterval(() => {
    post({ type: 'heartbeat', key: shownKey, overlay: overlayKey, frames, at: nowMs() });
  }, 2000);

  tickClock();
  fontCheck().finally(() => {
    if (PREVIEW) {
      window.addEventListener('message', (e) => {
        if (e.origin !== location.origin) return;
        if (e.data?.type === 'loa-preview-hello') {
          e.source?.postMessage({ type: 'loa-preview-ready' }, location.origin);
          return;
        }
        if (e.data?.type !== 'loa-preview') return;
        try {
          apply(e.data.state);
        } catch (err) {
          document.documentElement.dataset.previewError = String(err.message);
        }
      });
      if (window.parent !== window) window.parent.postMessage({ type: 'loa-preview-ready' }, location.origin);
      return;
    }
    const es = new EventSource(`${API}/events`);
    // A page left (reload, navigation) may stay in the back/forward cache with its event stream
    // open: each such stream holds one of the browser's six connections to the kiosk server, and
    // after a few reloads the page's reports (an overlay painted) waited seconds for a free one.
    window.addEventListener('pagehide', () => es.close());
    window.addEventListener('pageshow', (e) => {
      if (e.persisted) location.reload();
    });
    es.addEventListener('state', (e) => {
      try {
        apply(JSON.parse(e.data));
      } catch (err) {
        alertOnce('DISPLAY_SCRIPT_ERROR', String(err.message).slice(0, 400));
      }
    });
    post({ type: 'heartbeat', key: shownKey, overlay: overlayKey, frames, at: nowMs() });
  });
  window.__loaKiosk = { frames: () => frames, shown: () => shownKey, overlay: () => overlayKey };
})();
