/**
 * loa bulletin: text (msg.payload string; spoken by the server unless `speak` is off, and kept as a
 * text item for noticeboards) or audio (msg.payload Buffer) → content items → bundle
 * draft; then, as configured, submit it for approval or publish it (submit, approve and publish
 * signed with the token owner's server-held key: only where the role and the trust policy allow).
 */
'use strict';
const { LoaClientError, clientOf, fail, unitList } = require('./lib/client.js');

const MODES = ['draft', 'submit', 'publish'];
const PRIORITIES = ['normal', 'priority', 'emergency'];
const CHANNEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TIME_RE = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

function input(cfg, msg) {
  const mode = msg.mode || cfg.mode || 'draft';
  if (!MODES.includes(mode))
    throw new LoaClientError('LOA_INPUT_INVALID', `chế độ "${mode}" không có (${MODES.join(', ')})`);
  const units = unitList(msg.unit || msg.units || cfg.unit);
  const channel = msg.channel || cfg.channel || 'bulletins';
  if (!CHANNEL_RE.test(channel))
    throw new LoaClientError('LOA_INPUT_INVALID', `kênh "${String(channel).slice(0, 40)}" không hợp lệ`);
  const priority = msg.priority || cfg.priority || 'normal';
  if (!PRIORITIES.includes(priority))
    throw new LoaClientError('LOA_INPUT_INVALID', `mức ưu tiên "${priority}" không có`);
  const title = String(msg.title || msg.topic || cfg.title || '')
    .trim()
    .slice(0, 300);
  if (!title) throw new LoaClientError('LOA_INPUT_INVALID', 'cần tiêu đề bản tin (msg.title)');
  const p = msg.payload;
  let kind;
  if (Buffer.isBuffer(p)) {
    if (p.length === 0) throw new LoaClientError('LOA_INPUT_INVALID', 'tệp âm thanh rỗng');
    kind = 'audio';
  } else if (typeof p === 'string' && p.trim()) kind = 'text';
  else throw new LoaClientError('LOA_INPUT_INVALID', 'msg.payload phải là văn bản hoặc Buffer âm thanh');
  const times = String(msg.times || cfg.times || '')
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const t of times)
    if (!TIME_RE.test(t)) throw new LoaClientError('LOA_INPUT_INVALID', `giờ phát "${t}" phải dạng HH:MM`);
  const speak = msg.speak ?? cfg.speak ?? true;
  return {
    mode,
    units,
    channel,
    priority,
    title,
    kind,
    times,
    speak: speak !== false && speak !== 'false',
    lang: msg.lang || cfg.lang || 'vi',
  };
}

module.exports = (RED) => {
  function LoaBulletinNode(cfg) {
    RED.nodes.createNode(this, cfg);
    this.on('input', async (msg, send, done) => {
      let inp;
      try {
        inp = input(cfg, msg);
        const api = clientOf(RED, cfg.server);
        this.status({ fill: 'blue', shape: 'dot', text: 'đang gửi…' });
        const contents = [];
        if (inp.kind === 'text') {
          const text = {
            title: inp.title,
            unit: inp.units[0],
            lang: inp.lang,
            text: msg.payload.trim().slice(0, 20_000),
          };
          // spoken first, so that the schedule plays the voice; the text item is for noticeboards
          if (inp.speak)
            contents.push(
              await api.request('POST', '/api/v1/content/speech', { json: text, timeoutMs: 300_000 }),
            );
          contents.push(await api.request('POST', '/api/v1/content/text', { json: text }));
        } else {
          const name = msg.filename ? String(msg.filename).split(/[\\/]/).pop() : 'ban-tin.mp3';
          const q = new URLSearchParams({ title: inp.title, unit: inp.units[0], lang: inp.lang, name });
          contents.push(
            await api.request('POST', `/api/v1/content/upload?${q}`, {
              body: msg.payload,
              headers: { 'content-type': 'application/octet-stream' },
              timeoutMs: 300_000,
            }),
          );
        }
        const first = contents[0];
        const draft = {
          channel: inp.channel,
          description: inp.title,
          items: contents.map((c) => ({ content: c.id, priority: inp.priority, title: inp.title })),
          targets: inp.units.map((unit) => ({ unit })),
          ...(inp.times.length
            ? { schedule: [{ id: 'daily', items: [first.id], rule: { type: 'daily', times: inp.times } }] }
            : {}),
        };
        let bundle = await api.request('POST', '/api/v1/bundles', { json: draft });
        if (inp.mode === 'submit' || inp.mode === 'publish')
          bundle = await api.request('POST', `/api/v1/bundles/${bundle.id}/submit`, {
            json: { sign: inp.mode === 'publish' },
          });
        if (inp.mode === 'publish') {
          bundle = await api.request('POST', `/api/v1/bundles/${bundle.id}/approve`, {
            json: { sign: true },
          });
          bundle = await api.request('POST', `/api/v1/bundles/${bundle.id}/publish`);
        }
        this.status({ fill: 'green', shape: 'dot', text: `${bundle.id}: ${bundle.state}` });
        msg.payload = bundle;
        msg.content = contents;
        send(msg);
        done();
      } catch (err) {
        fail(this, err, msg, done);
      }
    });
  }
  RED.nodes.registerType('loa bulletin', LoaBulletinNode);
};
