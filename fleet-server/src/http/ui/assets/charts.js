// Device health charts with uPlot (served locally). Data: GET data-health-src → column series.
function vnTime(ts) {
  const d = new Date((ts + 7 * 3600) * 1000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

function draw(el, t, values, label) {
  const width = Math.max(260, el.clientWidth || 300);
  return new uPlot(
    {
      title: label,
      width,
      height: 170,
      scales: { x: { time: true } },
      series: [{}, { label, stroke: '#0b5cad', width: 2, spanGaps: true }],
      // Asia/Ho_Chi_Minh is UTC+07:00 all year: 24-hour HH:MM on the Vietnamese clock.
      axes: [{ values: (_u, splits) => splits.map(vnTime) }, { size: 50 }],
      legend: { show: false },
    },
    [t, values],
    el,
  );
}

async function init() {
  const src = document.querySelector('[data-health-src]')?.dataset.healthSrc;
  if (!src || typeof uPlot === 'undefined') return;
  const res = await fetch(src, { credentials: 'same-origin' });
  if (!res.ok) return;
  const data = await res.json();
  for (const el of document.querySelectorAll('[data-chart]')) {
    const series = data[el.dataset.chart];
    // An empty chart says why it is empty instead of showing a blank box.
    const reason =
      data.t.length === 0
        ? el.dataset.emptyNone
        : !series || series.every((v) => v === null)
          ? el.dataset.emptyMetric
          : undefined;
    if (reason) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = `${el.dataset.label}: ${reason}`;
      el.replaceChildren(p);
      continue;
    }
    draw(el, data.t, series, el.dataset.label);
  }
  document.body.dataset.charts = String(data.t.length);
}

init();
