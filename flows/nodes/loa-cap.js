/**
 * loa cap: a CAP 1.2 alert (msg.payload: XML string or Buffer) forwarded to the server
 * (POST /api/v1/cap), which parses it strictly and answers what it did: draft, sent, cancelled,
 * duplicate or ignored (msg.payload.outcome). Obvious problems are refused here already: an empty
 * or oversize payload, a DOCTYPE (entity bombs), something that is not a CAP 1.2 <alert>.
 */
'use strict';
const { LoaClientError, clientOf, fail } = require('./lib/client.js');

const MAX_BYTES = 256 * 1024;

function capText(payload) {
  const xml = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  if (typeof xml !== 'string' || !xml.trim())
    throw new LoaClientError('LOA_INPUT_INVALID', 'msg.payload phải là tài liệu CAP (XML)');
  if (Buffer.byteLength(xml) > MAX_BYTES)
    throw new LoaClientError('CAP_TOO_LARGE', `tài liệu CAP vượt quá ${MAX_BYTES} byte`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new LoaClientError('CAP_DTD_FORBIDDEN', 'tài liệu CAP có khai báo DOCTYPE/ENTITY; không được phép');
  if (!xml.includes('urn:oasis:names:tc:emergency:cap:1.2'))
    throw new LoaClientError(
      'CAP_NOT_CAP',
      'không phải cảnh báo CAP 1.2 (thiếu không gian tên urn:oasis:names:tc:emergency:cap:1.2)',
    );
  return xml;
}

module.exports = (RED) => {
  function LoaCapNode(cfg) {
    RED.nodes.createNode(this, cfg);
    this.on('input', async (msg, send, done) => {
      try {
        const xml = capText(msg.payload);
        const api = clientOf(RED, cfg.server);
        this.status({ fill: 'blue', shape: 'dot', text: 'đang gửi…' });
        const r = await api.request('POST', '/api/v1/cap', {
          body: xml,
          headers: { 'content-type': 'application/xml' },
          timeoutMs: 120_000,
        });
        const rec = r.record;
        this.status({
          fill: r.outcome === 'ignored' || r.outcome === 'duplicate' ? 'yellow' : 'green',
          shape: 'dot',
          text: `${r.outcome}: ${rec.units.join(', ') || '—'}${rec.priority ? ` (${rec.priority})` : ''}`,
        });
        msg.payload = r;
        msg.statusCode = r.outcome === 'duplicate' || r.outcome === 'ignored' ? 200 : 201;
        send(msg);
        done();
      } catch (err) {
        // for an HTTP-in flow: answer the caller with the code
        msg.statusCode = err.status || 400;
        fail(this, err, msg, done);
      }
    });
  }
  RED.nodes.registerType('loa cap', LoaCapNode);
};
