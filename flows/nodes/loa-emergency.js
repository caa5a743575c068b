/**
 * loa emergency: "send" broadcasts msg.payload (text, spoken by the server) to each unit at once
 * (POST /api/v1/emergency, token role operator/approver with a delegated emergency key); "draft"
 * hands it to the server as a CAP 1.2 alert, which waits as a draft for a person to send (its
 * priority comes from the province's CAP table and the risk level given here).
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { LoaClientError, clientOf, fail, unitList } = require('./lib/client.js');

const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor'];

function esc(s) {
  return String(s).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c],
  );
}

/** CAP dateTime with the +07:00 offset used in Vietnam. */
function capDate(ms) {
  return `${new Date(ms + 7 * 3600_000).toISOString().slice(0, 19)}+07:00`;
}

/** A CAP 1.2 alert for a draft: one area per unit, addressed by the LOA-UNIT geocode. */
function draftCap({ sender, title, text, units, severity, riskLevel, validMinutes, now }) {
  const areas = units
    .map(
      (u) =>
        `<area><areaDesc>${esc(u)}</areaDesc><geocode><valueName>LOA-UNIT</valueName><value>${esc(u)}</value></geocode></area>`,
    )
    .join('');
  const risk = riskLevel
    ? `<parameter><valueName>riskLevel</valueName><value>${riskLevel}</value></parameter>`
    : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">' +
    `<identifier>nodered-${randomUUID()}</identifier><sender>${esc(sender)}</sender><sent>${capDate(now)}</sent>` +
    '<status>Actual</status><msgType>Alert</msgType><scope>Public</scope><info><language>vi-VN</language>' +
    `<category>Other</category><event>${esc(title)}</event><urgency>Immediate</urgency><severity>${severity}</severity>` +
    `<certainty>Observed</certainty><expires>${capDate(now + validMinutes * 60_000)}</expires>` +
    `<headline>${esc(title)}</headline><description>${esc(text)}</description>${risk}${areas}</info></alert>`
  );
}

module.exports = (RED) => {
  function LoaEmergencyNode(cfg) {
    RED.nodes.createNode(this, cfg);
    this.on('input', async (msg, send, done) => {
      try {
        const mode = msg.mode || cfg.mode || 'draft';
        if (mode !== 'draft' && mode !== 'send')
          throw new LoaClientError('LOA_INPUT_INVALID', `chế độ "${mode}" không có (draft, send)`);
        const units = unitList(msg.unit || msg.units || cfg.unit);
        const text = typeof msg.payload === 'string' ? msg.payload.trim() : '';
        if (!text || text.length > 5000)
          throw new LoaClientError('LOA_INPUT_INVALID', 'msg.payload phải là văn bản 1–5000 ký tự');
        const title = String(msg.title || msg.topic || cfg.title || text.slice(0, 80))
          .trim()
          .slice(0, 300);
        const repeat = Number(msg.repeat || cfg.repeat || 3);
        if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20)
          throw new LoaClientError('LOA_INPUT_INVALID', 'số lần lặp phải từ 1 đến 20');
        const validMinutes = Number(msg.validMinutes || cfg.validMinutes || 120);
        if (!Number.isInteger(validMinutes) || validMinutes < 5 || validMinutes > 1440)
          throw new LoaClientError('LOA_INPUT_INVALID', 'thời hạn phải từ 5 đến 1440 phút');
        const api = clientOf(RED, cfg.server);
        this.status({
          fill: 'blue',
          shape: 'dot',
          text: mode === 'send' ? 'đang phát…' : 'đang gửi bản nháp…',
        });
        if (mode === 'send') {
          const sent = [];
          for (const unit of units)
            sent.push(
              await api.request('POST', '/api/v1/emergency', {
                json: { unit, title, text, repeat, validMinutes, lang: msg.lang || 'vi' },
                timeoutMs: 120_000,
              }),
            );
          this.status({
            fill: 'green',
            shape: 'dot',
            text: `đã phát: ${sent.map((s) => s.bundle.id).join(', ')}`,
          });
          msg.payload = sent;
        } else {
          const severity = msg.severity || cfg.severity || 'Severe';
          if (!SEVERITIES.includes(severity))
            throw new LoaClientError('LOA_INPUT_INVALID', `mức nghiêm trọng "${severity}" không có`);
          const riskLevel =
            msg.riskLevel || cfg.riskLevel ? Number(msg.riskLevel || cfg.riskLevel) : undefined;
          if (riskLevel !== undefined && !(Number.isInteger(riskLevel) && riskLevel >= 1 && riskLevel <= 5))
            throw new LoaClientError('LOA_INPUT_INVALID', 'cấp độ rủi ro thiên tai phải từ 1 đến 5');
          const xml = draftCap({
            sender: cfg.sender || 'node-red@loa',
            title,
            text,
            units,
            severity,
            riskLevel,
            validMinutes,
            now: Date.now(),
          });
          const r = await api.request('POST', '/api/v1/cap', {
            body: xml,
            headers: { 'content-type': 'application/xml' },
          });
          this.status({
            fill: 'green',
            shape: 'dot',
            text: `${r.outcome}: ${r.record.units.join(', ')} (${r.record.priority})`,
          });
          msg.payload = r;
        }
        send(msg);
        done();
      } catch (err) {
        fail(this, err, msg, done);
      }
    });
  }
  RED.nodes.registerType('loa emergency', LoaEmergencyNode);
};
