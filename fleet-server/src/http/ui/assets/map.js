// Fleet map with Leaflet (served locally). Useful without tiles: devices are drawn as coloured
// circles on a plain background with unit labels; a tile URL (data-tiles) adds a base map.
// All text goes in through textContent (never innerHTML).

const COLOURS = {
  online: '#1f7a3a',
  offline: '#b3261e',
  never: '#7a8591',
  pending: '#c98a00',
  revoked: '#7a8591',
  decommissioned: '#7a8591',
};

function label(text) {
  const el = document.createElement('span');
  el.className = 'unit-label';
  el.textContent = text;
  return el;
}

function popup(p) {
  const box = document.createElement('div');
  const a = document.createElement('a');
  a.href = `/ui/devices/${encodeURIComponent(p.id)}`;
  a.textContent = p.name || p.id;
  const small = document.createElement('div');
  small.textContent = p.id;
  box.append(a, small);
  return box;
}

async function init() {
  const el = document.getElementById('map');
  if (!el || !window.L) return;
  const L = window.L;
  const note = document.querySelector('[data-map-note]');
  const res = await fetch(el.dataset.src, { credentials: 'same-origin' });
  if (!res.ok) return;
  const data = await res.json();
  const map = L.map(el, { preferCanvas: true, attributionControl: Boolean(el.dataset.tiles) });
  const notes = [];
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18 }).addTo(map);
  } else {
    notes.push(el.dataset.noTiles);
  }
  if (data.missing > 0) notes.push(el.dataset.missing.replace('{n}', String(data.missing)));
  if (note) note.textContent = notes.join(' ');
  const markers = new Map();
  for (const p of data.points) {
    const m = L.circleMarker([p.lat, p.lon], {
      radius: p.alerts > 0 ? 8 : 6,
      color: p.alerts > 0 ? '#8a5a00' : '#fff',
      weight: p.alerts > 0 ? 3 : 1,
      fillColor: COLOURS[p.state] ?? '#7a8591',
      fillOpacity: 0.95,
    });
    m.bindPopup(() => popup(p));
    m.addTo(map);
    markers.set(p.id, m);
  }
  for (const l of data.labels) {
    L.marker([l.lat, l.lon], {
      icon: L.divIcon({ html: label(l.name), className: '', iconSize: null, iconAnchor: [0, -10] }),
      interactive: false,
    }).addTo(map);
  }
  if (data.points.length > 0) {
    map.fitBounds(L.latLngBounds(data.points.map((p) => [p.lat, p.lon])), { padding: [30, 30], maxZoom: 14 });
  } else {
    map.setView([21.82, 105.21], 9); // Tuyên Quang
  }
  // The communes' boundaries, when the province has loaded them (served by this server).
  if (el.dataset.boundaries) {
    const b = await fetch(el.dataset.boundaries, { credentials: 'same-origin' });
    if (b.ok) {
      const layer = L.geoJSON(await b.json(), {
        interactive: false,
        style: { color: '#1d4e89', weight: 1.5, opacity: 0.8, fillColor: '#1d4e89', fillOpacity: 0.06 },
      }).addTo(map);
      layer.bringToBack();
      el.dataset.boundaryCount = String(layer.getLayers().length);
      // Show the communes whole, with every station.
      if (layer.getLayers().length > 0) {
        const all = layer.getBounds();
        for (const p of data.points) all.extend([p.lat, p.lon]);
        map.fitBounds(all, { padding: [10, 10], maxZoom: 14 });
      }
    }
  }
  // Live: recolour markers from the state badges' updates.
  document.addEventListener('loa:update', (ev) => {
    for (const [k, u] of Object.entries(ev.detail.set ?? {})) {
      const m = /^d:(.+):s$/.exec(k);
      if (!m || !u.v) continue;
      const marker = markers.get(m[1]);
      const state = u.v;
      if (marker && state) marker.setStyle({ fillColor: COLOURS[state] });
    }
  });
  el.dataset.ready = String(data.points.length);
}

init();
