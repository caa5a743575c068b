/**
 * loa events: the server's event stream (GET /api/v1/events, server-sent events) as messages:
 * msg.topic is the event type (presence, alert.opened, alert.resolved, proof, emergency.sent,
 * emergency.device, cap.received…), msg.payload the event. Reconnects with a growing delay (1 s
 * to 30 s) when the link drops; no polling.
 */
'use strict';
const { LoaClientError, clientOf } = require('./lib/client.js');

const KINDS = ['presence', 'alert', 'proof', 'emergency', 'cap'];

module.exports = (RED) => {
  function LoaEventsNode(cfg) {
    RED.nodes.createNode(this, cfg);
    const types = String(cfg.types || KINDS.join(','))
      .split(/[\s,]+/)
      .filter(Boolean);
    const bad = types.find((t) => !KINDS.includes(t));
    let ctl;
    let timer;
    let closed = false;
    let delay = 1000;

    const connect = async () => {
      if (closed) return;
      ctl = new AbortController();
      try {
        if (bad)
          throw new LoaClientError(
            'LOA_INPUT_INVALID',
            `loại sự kiện "${bad}" không có (${KINDS.join(', ')})`,
          );
        const api = clientOf(RED, cfg.server);
        this.status({ fill: 'yellow', shape: 'ring', text: 'đang kết nối…' });
        await api.stream(
          `/api/v1/events?types=${encodeURIComponent(types.join(','))}`,
          (ev) => {
            if (ev.event === 'hello') {
              delay = 1000;
              this.status({ fill: 'green', shape: 'dot', text: 'đã kết nối' });
              this.log(`đã kết nối luồng sự kiện (${types.join(',')})`);
              return;
            }
            if (ev.event === 'overflow') {
              this.warn(`bỏ lỡ ${ev.data?.dropped} sự kiện (đọc không kịp)`);
              return;
            }
            this.send({ topic: ev.event, payload: ev.data, _eventId: ev.id });
          },
          ctl.signal,
        );
        if (!closed) this.status({ fill: 'yellow', shape: 'ring', text: 'máy chủ đóng luồng, kết nối lại…' });
      } catch (err) {
        if (closed) return;
        const code = err.code || 'ERROR';
        this.status({ fill: 'red', shape: 'ring', text: code });
        this.error(`${code}: ${err.message}`, { topic: 'error', error: { code, message: err.message } });
        // a refused token or role will not get better by hammering the server
        if (
          err.status === 401 ||
          err.status === 403 ||
          code === 'LOA_CONFIG_MISSING' ||
          code === 'LOA_INPUT_INVALID'
        )
          delay = 30_000;
      }
      if (closed) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30_000);
    };
    connect();

    this.on('close', (done) => {
      closed = true;
      clearTimeout(timer);
      ctl?.abort();
      this.status({});
      done();
    });
  }
  RED.nodes.registerType('loa events', LoaEventsNode);
};
