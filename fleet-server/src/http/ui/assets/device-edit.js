// The device form's map: a click puts the device there (fills the latitude and longitude fields);
// typing coordinates moves the marker. Leaflet is served locally; tiles only when configured.

async function initEditMap() {
  const el = document.getElementById('edit-map');
  if (!el || !window.L) return;
  const L = window.L;
  const form = el.closest('form');
  const lat = form.querySelector('[name=lat]');
  const lon = form.querySelector('[name=lon]');
  // A view first: Leaflet draws vector layers only on a map that has one.
  const map = L.map(el, { attributionControl: Boolean(el.dataset.tiles) }).setView([21.82, 105.21], 9);
  if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 18 }).addTo(map);
  let bounds = null;
  if (el.dataset.boundaries) {
    const res = await fetch(el.dataset.boundaries, { credentials: 'same-origin' });
    if (res.ok) {
      const layer = L.geoJSON(await res.json(), {
        interactive: false,
        style: { color: '#1d4e89', weight: 1.5, fillOpacity: 0.06 },
      }).addTo(map);
      if (layer.getLayers().length) bounds = layer.getBounds();
    }
  }
  let marker = null;
  const place = (la, lo) => {
    if (!Number.isFinite(la) || !Number.isFinite(lo)) return;
    if (marker) marker.setLatLng([la, lo]);
    else
      marker = L.circleMarker([la, lo], {
        radius: 8,
        color: '#fff',
        weight: 2,
        fillColor: '#b3261e',
        fillOpacity: 1,
      }).addTo(map);
  };
  const typed = () => [Number(lat.value.replace(',', '.')), Number(lon.value.replace(',', '.'))];
  const valid = (a, b) => lat.value && lon.value && Math.abs(a) <= 90 && Math.abs(b) <= 180;
  const [la, lo] = typed();
  if (valid(la, lo)) {
    place(la, lo);
    map.setView([la, lo], 13);
  } else if (bounds) map.fitBounds(bounds);
  else map.setView([21.82, 105.21], 9);
  map.on('click', (ev) => {
    const p = ev.latlng;
    lat.value = p.lat.toFixed(5);
    lon.value = p.lng.toFixed(5);
    place(p.lat, p.lng);
  });
  for (const input of [lat, lon])
    input.addEventListener('change', () => {
      const [a, b] = typed();
      if (valid(a, b)) place(a, b);
    });
  el.dataset.ready = '1';
}

initEditMap();
