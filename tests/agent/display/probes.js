// Read-outs of what the kiosk page shows, injected into the page by the display tests
// (plain JavaScript: the tests compile without the DOM library).

window.__loaProbe = {
  box(sel) {
    const e = document.querySelector(sel);
    if (!e || e.offsetParent === null) return null;
    const r = e.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height, bottom: r.bottom, right: r.right };
  },
  fit(sel) {
    const e = document.querySelector(sel);
    if (!e) return null;
    return {
      text: e.innerText,
      over: e.scrollHeight - e.clientHeight,
      overX: e.scrollWidth - e.clientWidth,
      fontPx: Number.parseFloat(getComputedStyle(e).fontSize),
    };
  },
  text(sel) {
    const e = document.querySelector(sel);
    return e ? e.textContent : null;
  },
  count(sel) {
    return document.querySelectorAll(sel).length;
  },
  hidden(id) {
    const e = document.getElementById(id);
    return e ? e.hidden : null;
  },
  fontFaces(family) {
    return [...document.fonts].filter((f) => f.family.replace(/"/g, '') === family).map((f) => f.status);
  },
  media(sel) {
    const e = document.querySelector(sel);
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return {
      x: r.x,
      y: r.y,
      w: r.width,
      h: r.height,
      natural: e.naturalWidth ?? null,
      complete: e.complete ?? null,
      t: e.currentTime ?? null,
      muted: e.muted ?? null,
      ready: e.readyState ?? null,
      vw: e.videoWidth ?? null,
    };
  },
  /** For each point: is the topmost element there inside `sel`? */
  hits(sel, points) {
    return points.map(([x, y]) => {
      const e = document.elementFromPoint(x, y);
      return !!e && !!e.closest(sel);
    });
  },
  tagAt(x, y) {
    return document.elementFromPoint(x, y)?.tagName ?? null;
  },
};
