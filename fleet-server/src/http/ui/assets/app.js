// Loa dashboard: small progressive enhancements. Every page works without this file.
// - forms with data-confirm ask before submitting;
// - forms with data-upload send with XMLHttpRequest and show upload progress;
// - <body data-live="url"> listens to server-sent events and applies batched updates to
//   elements carrying data-k="key" (text, class, width, hidden, list items), never as HTML.

function confirmForms() {
  document.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    const msg = ev.submitter?.dataset.confirm ?? form.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
}

function uploadForms() {
  for (const form of document.querySelectorAll('form[data-upload]')) {
    form.addEventListener('submit', (ev) => {
      if (ev.defaultPrevented) return;
      ev.preventDefault();
      const box = form.querySelector('.upload-progress');
      const bar = box?.querySelector('progress');
      const label = box?.querySelector('[data-progress-label]');
      const template = label?.dataset.template ?? '{p}%';
      const xhr = new XMLHttpRequest();
      // The text fields ride in the query too: a file refused for its size before the body is read
      // (413) still gets its form back filled in.
      const url = new URL(form.action, window.location.href);
      for (const [k, v] of new FormData(form))
        if (typeof v === 'string' && k !== '_csrf' && v.length <= 500) url.searchParams.set(k, v);
      xhr.open(form.method || 'POST', url.toString());
      xhr.upload.addEventListener('progress', (e) => {
        if (!e.lengthComputable || !bar) return;
        const p = Math.round((e.loaded / e.total) * 100);
        bar.value = p;
        if (label) label.textContent = template.replace('{p}', String(p));
      });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
          return;
        }
        // A re-rendered form (validation errors) or an error page from our own server.
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener('error', () => {
        if (label) label.textContent = '✗';
      });
      if (box) box.hidden = false;
      for (const b of form.querySelectorAll('button')) b.disabled = true;
      xhr.send(new FormData(form));
    });
  }
}

function indexKeys() {
  const map = new Map();
  for (const el of document.querySelectorAll('[data-k]')) {
    const k = el.dataset.k;
    const list = map.get(k);
    if (list) list.push(el);
    else map.set(k, [el]);
  }
  return map;
}

function apply(el, u) {
  if (u.t !== undefined) el.textContent = u.t;
  if (u.c !== undefined) el.className = u.c;
  if (u.w !== undefined) el.style.width = u.w;
  if (u.h !== undefined) el.hidden = u.h;
  if (u.title !== undefined) el.title = u.title;
  if (u.items !== undefined) {
    el.replaceChildren(
      ...u.items.map((item) => {
        const li = document.createElement('li');
        if (item.href) {
          const a = document.createElement('a');
          a.href = item.href;
          a.textContent = item.text;
          li.append(a);
        } else li.textContent = item.text;
        return li;
      }),
    );
  }
}

let refetching = false;
const pendingSwap = new Set();
/**
 * Re-fetches the page and swaps the elements whose data-k is in `keys` (our own escaped HTML).
 * Keys asked for while a fetch runs are fetched right after it, never dropped.
 */
async function refetch(keys) {
  for (const k of keys) pendingSwap.add(k);
  if (refetching) return;
  refetching = true;
  try {
    while (pendingSwap.size > 0) {
      const now = [...pendingSwap];
      pendingSwap.clear();
      const res = await fetch(window.location.href, { credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const k of now) {
        const fresh = doc.querySelector(`[data-k="${CSS.escape(k)}"]`);
        const old = document.querySelector(`[data-k="${CSS.escape(k)}"]`);
        if (fresh && old) old.replaceWith(document.adoptNode(fresh));
      }
    }
  } finally {
    refetching = false;
  }
}

function live() {
  const url = document.body.dataset.live;
  if (!url || !('EventSource' in window)) return;
  let index = indexKeys();
  const state = document.querySelector('[data-live-state]');
  const es = new EventSource(url);
  es.addEventListener('open', () => {
    if (!state) return;
    state.hidden = false;
    state.querySelector('[data-ok]').hidden = false;
    state.querySelector('[data-lost]').hidden = true;
  });
  es.addEventListener('error', () => {
    if (!state) return;
    state.hidden = false;
    state.querySelector('[data-ok]').hidden = true;
    state.querySelector('[data-lost]').hidden = false;
  });
  es.addEventListener('update', (ev) => {
    const msg = JSON.parse(ev.data);
    let missing = false;
    const swap = [];
    for (const [k, u] of Object.entries(msg.set ?? {})) {
      if (u.r) {
        swap.push(k);
        continue;
      }
      const els = index.get(k);
      if (!els) {
        missing = true;
        continue;
      }
      for (const el of els) apply(el, u);
    }
    if (missing) index = indexKeys();
    if (swap.length)
      refetch(swap).then(() => {
        index = indexKeys();
      });
    document.body.dataset.liveSeq = String(msg.seq ?? 0);
    document.dispatchEvent(new CustomEvent('loa:update', { detail: msg }));
  });
  window.addEventListener('beforeunload', () => es.close());
}

/** Shows only the fields of the chosen schedule type (all stay in the form without JS). */
function ruleFields() {
  for (const sel of document.querySelectorAll('select[data-rule-select]')) {
    const form = sel.form;
    const apply = () => {
      for (const el of form.querySelectorAll('[data-when]'))
        el.hidden = !el.dataset.when.split(' ').includes(sel.value);
    };
    sel.addEventListener('change', apply);
    apply();
  }
}

function printButtons() {
  for (const b of document.querySelectorAll('[data-print]'))
    b.addEventListener('click', () => window.print());
}

/** A table that scrolls sideways (on a phone) can be scrolled with the keyboard too. */
function scrollableTables() {
  const mark = () => {
    for (const el of document.querySelectorAll('main table, .table-wrap')) {
      if (el.scrollWidth > el.clientWidth + 1) el.tabIndex = 0;
      else if (el.tabIndex === 0) el.removeAttribute('tabindex');
    }
  };
  mark();
  window.addEventListener('resize', mark);
}

confirmForms();
printButtons();
scrollableTables();
ruleFields();
uploadForms();
live();
