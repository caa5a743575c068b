/**
 * loa stats: the server's effectiveness report for a period (GET /api/v1/reports/effectiveness):
 * JSON rows per unit, day and output (planned vs played or displayed) with the whole report beside
 * them in msg.report, or the report's CSV (format=csv, one row per unit, day and output).
 *   period "yesterday" (nightly), "last-month" (monthly), or msg.from / msg.to (YYYY-MM-DD).
 */
'use strict';
const { LoaClientError, checkUnit, clientOf, fail } = require('./lib/client.js');

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
// One row per day, unit and output (the loudspeakers' audio, or the noticeboards' display).
const KEYS = ['day', 'unit', 'name', 'output', 'scheduled', 'played', 'rate'];

/** The day in Vietnam (UTC+7) of an instant. */
function vnDay(ms) {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
}

function range(period, now) {
  if (period === 'yesterday') {
    const d = vnDay(now - 86_400_000);
    return { from: d, to: d };
  }
  if (period === 'last-month') {
    const [y, m] = vnDay(now).split('-').map(Number);
    const first = new Date(Date.UTC(y, m - 2, 1));
    const last = new Date(Date.UTC(y, m - 1, 0));
    return { from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) };
  }
  if (period === 'last-7-days') return { from: vnDay(now - 7 * 86_400_000), to: vnDay(now - 86_400_000) };
  throw new LoaClientError(
    'LOA_INPUT_INVALID',
    `khoảng thời gian "${period}" không có (yesterday, last-7-days, last-month)`,
  );
}

/** RFC 4180 CSV → rows of strings. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

function toRows(csv) {
  const [, ...lines] = parseCsv(csv);
  return lines.map((cells) => {
    const o = {};
    KEYS.forEach((k, i) => {
      const v = cells[i] ?? '';
      o[k] =
        k === 'scheduled' || k === 'played'
          ? Number(v)
          : k === 'rate'
            ? v === ''
              ? null
              : Number(v)
            : v.replace(/^'/, '');
    });
    return o;
  });
}

module.exports = (RED) => {
  function LoaStatsNode(cfg) {
    RED.nodes.createNode(this, cfg);
    this.on('input', async (msg, send, done) => {
      try {
        let from = msg.from;
        let to = msg.to;
        if (from || to) {
          if (!DAY_RE.test(String(from)) || !DAY_RE.test(String(to)))
            throw new LoaClientError('LOA_INPUT_INVALID', 'msg.from và msg.to phải dạng YYYY-MM-DD');
        } else ({ from, to } = range(msg.period || cfg.period || 'yesterday', Date.now()));
        const unit = msg.unit || cfg.unit || '';
        if (unit) checkUnit(unit);
        const format = msg.format || cfg.format || 'json';
        if (format !== 'json' && format !== 'csv')
          throw new LoaClientError('LOA_INPUT_INVALID', 'định dạng phải là json hoặc csv');
        const api = clientOf(RED, cfg.server);
        this.status({ fill: 'blue', shape: 'dot', text: `${from} → ${to}` });
        const qs = new URLSearchParams({ from, to, ...(unit ? { unit } : {}) });
        let rows;
        if (format === 'csv') {
          qs.set('format', 'csv');
          const csv = await api.request('GET', `/api/v1/reports/effectiveness?${qs}`, {
            headers: { accept: 'text/csv' },
          });
          if (typeof csv !== 'string')
            throw new LoaClientError('LOA_REPORT_UNAVAILABLE', 'máy chủ không trả về báo cáo CSV');
          rows = toRows(csv);
          msg.payload = csv;
        } else {
          const report = await api.request('GET', `/api/v1/reports/effectiveness?${qs}`);
          if (!report || !Array.isArray(report.daily))
            throw new LoaClientError(
              'LOA_REPORT_UNAVAILABLE',
              'máy chủ không trả về báo cáo (mã API có quyền xem không?)',
            );
          rows = report.daily.map((d) => ({
            day: d.day,
            unit: d.unit,
            name: d.unitName,
            output: d.outputName,
            scheduled: d.planned,
            played: d.done,
            rate: d.planned ? d.done / d.planned : null,
          }));
          msg.report = report;
          msg.payload = { from, to, unit: unit || null, rows, totals: report.totals };
        }
        msg.period = { from, to, unit: unit || null };
        msg.filename = `loa-bao-cao-${from}-${to}.${format}`;
        this.status({ fill: 'green', shape: 'dot', text: `${rows.length} dòng ${from} → ${to}` });
        send(msg);
        done();
      } catch (err) {
        fail(this, err, msg, done);
      }
    });
  }
  RED.nodes.registerType('loa stats', LoaStatsNode);
};
module.exports.range = range;
module.exports.toRows = toRows;
