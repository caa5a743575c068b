// Device health charts with uPlot (served locally). Data: GET data-health-src → column series.
// Asia/Ho_Chi_Minh is UTC+07:00 all year: ticks fall on whole minutes/hours of the Vietnamese clock.
const VN = 7 * 3600;
const STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
/** The narrowest span drawn: a single report or a short history still gets a readable axis. */
const MIN_SPAN = 30 * 60;

const pad = (n) => String(n).padStart(2, '0');

function vnParts(ts) {
  const d = new Date((ts + VN) * 1000);
  return {
    hm: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    day: `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}`,
  };
}

/** The shown span: the data's, widened around its middle to at least MIN_SPAN. */
function xRange(min, max) {
  if (min === null || max === null) return [min, max];
  if (max - min >= MIN_SPAN) return [min, max];
  const mid = (min + max) / 2;
  return [mid - MIN_SPAN / 2, mid + MIN_SPAN / 2];
}

/** Ticks on whole steps of the Vietnamese clock, at most maxTicks of them (so no two labels match). */
function xSplits(min, max, maxTicks) {
  const step = STEPS.find((s) => (max - min) / s <= maxTicks) ?? STEPS[STEPS.length - 1];
  const out = [];
  for (let v = Math.ceil((min + VN) / step) * step - VN; v <= max; v += step) out.push(v);
  return { step, splits: out, crossesDays: vnParts(min).day !== vnParts(max).day };
}

/** "07:00", "07:30"…; when the span crosses days, the date under the first tick and under the first tick of each day. */
function xLabels(splits, axis) {
  let prev;
  return splits.map((s) => {
    const p = vnParts(s);
    const label =
      axis.step >= 86400 ? p.day : axis.crossesDays && p.day !== prev ? `${p.hm}\n${p.day}` : p.hm;
    prev = p.day;
    return label;
  });
}

function draw(el, t, values, label) {
  const width = Math.max(260, el.clientWidth || 300);
  const maxTicks = Math.max(2, Math.floor(width / 90));
  let axis = { step: 60, crossesDays: false };
  return new uPlot(
    {
      title: label,
      width,
      height: 180,
      scales: { x: { time: true, range: (_u, min, max) => xRange(min, max) } },
      series: [{}, { label, stroke: '#0b5cad', width: 2, spanGaps: true, points: { show: t.length < 30 } }],
      axes: [
        {
          size: 50,
          splits: (_u, _i, min, max) => {
            axis = xSplits(min, max, maxTicks);
            return axis.splits;
          },
          values: (_u, splits) => {
            const labels = xLabels(splits, axis);
            el.dataset.xLabels = labels.join('|');
            return labels;
          },
        },
        { size: 50 },
      ],
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
