// The content page's noticeboard preview: builds the ScreenState a board would compute for the
// bulletin being written (or a library item) and posts it to the board page framed at
// /kiosk/?preview (protocol/kiosk, the same code the boards run). Same origin only.

const frame = document.querySelector('iframe[data-board-preview]');
const status = document.querySelector('[data-preview-status]');
const form = document.querySelector('form[data-bulletin-form]');
const DEFAULT_S = 10;
let rev = 0;
let ready = false;
let pending = null;
let lastSeconds = DEFAULT_S;

function fitFrame() {
  const box = frame?.parentElement;
  if (!box) return;
  frame.style.transform = `scale(${box.clientWidth / 1280})`;
}

/** "dd/mm/yyyy" of today in Vietnam (UTC+7), like a board's date line. */
function today() {
  const d = new Date(Date.now() + 7 * 3600_000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

function unitLabel() {
  const sel = form?.elements.t_unit;
  const opt = sel?.selectedOptions?.[0];
  return opt ? opt.textContent.replace(/\s*\([^)]*\)\s*$/, '') : 'Bảng tin điện tử';
}

/** The state a board would show for one item (its loop showing it, nothing else scheduled). */
function stateFor(item) {
  const now = Date.now();
  const seconds = item.seconds > 0 ? item.seconds : DEFAULT_S;
  lastSeconds = seconds;
  const issuer = (item.issuer || unitLabel()).normalize('NFC');
  const ticker = item.kind === 'text' && item.category === 'ticker';
  rev++;
  return {
    rev,
    layout: 'zone',
    // the header carries the board's own name: the unit the bulletin is written for
    unitName: item.unitName || unitLabel(),
    utcOffset: '+07:00',
    clockSkewMs: 0,
    minFontPx: 30,
    tickerSpeed: 120,
    emergency: null,
    ticker: ticker
      ? [
          {
            key: `preview-ticker/${rev}`,
            itemId: 'preview',
            text: (item.text || item.title).replace(/\s+/g, ' ').trim().normalize('NFC'),
          },
        ]
      : [],
    frame: ticker
      ? null
      : {
          key: `preview/${rev}`,
          itemId: 'preview',
          entryId: 'loop',
          kind: item.kind,
          priorityClass: 'fill',
          title: (item.title || '…').normalize('NFC'),
          ...(item.kind === 'text' ? { text: (item.text || '').normalize('NFC') } : {}),
          ...(item.src ? { mediaUrl: item.src, mediaType: item.mediaType } : {}),
          lang: item.lang || 'vi',
          sound: false,
          unit: issuer,
          dateLabel: item.dated ? item.dated.split('-').reverse().join('/') : today(),
          start: now,
          end: now + seconds * 1000,
          scheduledAt: now,
        },
  };
}

function show(item) {
  if (!frame) return;
  if (status) status.textContent = '';
  const state = stateFor(item);
  if (!ready) {
    pending = state;
    return;
  }
  frame.contentWindow.postMessage({ type: 'loa-preview', state }, location.origin);
}

function fromForm() {
  const v = (n) => form.elements[n]?.value ?? '';
  return {
    kind: 'text',
    title: v('t_title').trim(),
    text: v('t_text'),
    category: v('t_category'),
    lang: v('t_lang').trim() || 'vi',
    issuer: v('t_issuer').trim(),
    dated: v('t_dated'),
    seconds: Number(v('t_seconds')) || DEFAULT_S,
  };
}

function say(template, params) {
  if (!status || !template) return;
  status.textContent = template.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ''));
}

window.addEventListener('message', (e) => {
  if (e.origin !== location.origin || e.source !== frame?.contentWindow) return;
  const m = e.data;
  if (m?.type === 'loa-preview-ready') {
    ready = true;
    if (pending) frame.contentWindow.postMessage({ type: 'loa-preview', state: pending }, location.origin);
    pending = null;
    return;
  }
  if (m?.type !== 'loa-preview-report') return;
  const r = m.report;
  if (r.type === 'alert' && r.code === 'DISPLAY_TEXT_TOO_LONG') {
    const n = /(\d+) pages/.exec(r.message)?.[1] ?? '?';
    say(status.dataset.msgToolong, { n, s: lastSeconds });
    status.dataset.code = r.code;
  } else if (r.type === 'rendered' && r.layer === 'main' && r.pages > 1 && !status.dataset.code) {
    say(status.dataset.msgPages, { n: r.pages, s: lastSeconds });
  } else if (r.type === 'error') {
    say(status.dataset.msgError, { code: r.code });
    status.dataset.code = r.code;
  }
});

if (frame) {
  // the page answers "hello" with "ready" once it listens (or says "ready" itself when it starts)
  const hello = () => frame.contentWindow?.postMessage({ type: 'loa-preview-hello' }, location.origin);
  frame.addEventListener('load', hello);
  if (frame.contentDocument?.readyState === 'complete') hello();
  fitFrame();
  window.addEventListener('resize', fitFrame);
  let timer = null;
  const update = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (status) delete status.dataset.code;
      show(fromForm());
    }, 150);
  };
  if (form) {
    form.addEventListener('input', update);
    form.addEventListener('change', update);
    show(fromForm());
  }
  for (const b of document.querySelectorAll('[data-preview-item]'))
    b.addEventListener('click', () => {
      if (status) delete status.dataset.code;
      const d = b.dataset;
      show({
        kind: d.previewItem,
        title: d.title,
        text: d.text,
        category: d.category,
        lang: d.lang,
        issuer: d.issuer,
        dated: d.dated,
        seconds: Number(d.seconds) || DEFAULT_S,
        src: d.src,
        mediaType: d.mediaType,
      });
      frame.scrollIntoView({ behavior: 'smooth', block: 'center' });
    });
}
