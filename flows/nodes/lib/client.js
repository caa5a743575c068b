/**
 * HTTP and server-sent-event access to a Loa fleet server, shared by the palette's nodes.
 * Errors carry the server's stable `code` (or a local one: LOA_TIMEOUT, LOA_UNREACHABLE,
 * LOA_CONFIG_MISSING) and the HTTP status; nodes show the code on the canvas.
 */
'use strict';

class LoaClientError extends Error {
  constructor(code, message, status, details) {
    super(message);
    this.name = 'LoaClientError';
    this.code = code;
    if (status !== undefined) this.status = status;
    if (details !== undefined) this.details = details;
  }
}

function normaliseUrl(url) {
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/]+/i.test(url.trim()))
    throw new LoaClientError(
      'LOA_CONFIG_MISSING',
      'địa chỉ máy chủ Loa phải bắt đầu bằng http:// hoặc https://',
    );
  return url.trim().replace(/\/+$/, '');
}

/**
 * A client bound to a base URL and an API token. `timeoutMs` bounds each request (the whole
 * answer, body included); a stream has no overall bound, only its idle check.
 */
function createClient({ url, token, timeoutMs = 30_000, fetchImpl = fetch }) {
  const base = normaliseUrl(url);
  if (!token || !/^loa_/.test(token))
    throw new LoaClientError('LOA_CONFIG_MISSING', 'cần mã truy cập API của máy chủ Loa (bắt đầu bằng loa_)');

  async function request(method, path, opts = {}) {
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json', ...(opts.headers || {}) };
    let body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) body = opts.body;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeoutMs || timeoutMs);
    let res;
    let text;
    try {
      res = await fetchImpl(base + path, { method, headers, body, signal: ctl.signal });
      text = await res.text();
    } catch (err) {
      if (ctl.signal.aborted)
        throw new LoaClientError(
          'LOA_TIMEOUT',
          `máy chủ Loa không trả lời sau ${Math.round((opts.timeoutMs || timeoutMs) / 1000)} giây`,
        );
      throw new LoaClientError(
        'LOA_UNREACHABLE',
        `không kết nối được máy chủ Loa: ${err.cause?.code || err.message}`,
      );
    } finally {
      clearTimeout(timer);
    }
    const type = res.headers.get('content-type') || '';
    const parsed = type.includes('json') ? safeJson(text) : text;
    if (!res.ok) {
      const e = parsed && typeof parsed === 'object' && parsed.error ? parsed.error : {};
      throw new LoaClientError(
        e.code || `HTTP_${res.status}`,
        e.message || `máy chủ trả lời ${res.status}`,
        res.status,
        e.details,
      );
    }
    return parsed;
  }

  /**
   * Reads `path` as server-sent events until `signal` aborts; `onEvent({event, id, data})` for each
   * event (data parsed as JSON when it is). Resolves when the server closes the stream.
   */
  async function stream(path, onEvent, signal) {
    const res = await fetchImpl(base + path, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal,
    }).catch((err) => {
      if (signal?.aborted) throw err;
      throw new LoaClientError(
        'LOA_UNREACHABLE',
        `không kết nối được máy chủ Loa: ${err.cause?.code || err.message}`,
      );
    });
    if (!res.ok) {
      const parsed = safeJson(await res.text());
      const e = parsed?.error ?? {};
      throw new LoaClientError(
        e.code || `HTTP_${res.status}`,
        e.message || `máy chủ trả lời ${res.status}`,
        res.status,
      );
    }
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = { event: 'message', id: undefined, data: '' };
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (field === 'event') ev.event = val;
          else if (field === 'id') ev.id = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length) {
          const joined = data.join('\n');
          ev.data = safeJson(joined) ?? joined;
          onEvent(ev);
        }
        i = buf.indexOf('\n\n');
      }
    }
  }

  return { base, request, stream };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Shows an error on the node (red ring with the code) and reports it to catch nodes and the debug panel. */
function fail(node, err, msg, done) {
  const code = err.code || 'ERROR';
  node.status({ fill: 'red', shape: 'ring', text: code });
  const out = {
    ...msg,
    error: { code, message: err.message, ...(err.status ? { status: err.status } : {}) },
  };
  if (done) done(Object.assign(new Error(`${code}: ${err.message}`), { code }));
  else node.error(`${code}: ${err.message}`, out);
}

/** The config node's client, or an error with a clear code. */
function clientOf(RED, serverId) {
  const server = serverId ? RED.nodes.getNode(serverId) : null;
  if (!server || typeof server.client !== 'function')
    throw new LoaClientError('LOA_CONFIG_MISSING', 'chưa chọn máy chủ Loa (nút loa-server)');
  return server.client();
}

const UNIT_RE = /^[0-9]{2,5}(\/[0-9]{2,5}){0,4}$/;

function checkUnit(unit) {
  if (typeof unit !== 'string' || !UNIT_RE.test(unit))
    throw new LoaClientError(
      'LOA_INPUT_INVALID',
      `mã đơn vị "${String(unit).slice(0, 40)}" không hợp lệ (ví dụ 08/02500)`,
    );
  return unit;
}

/** A list of units from a string ("08/02500, 08/02600") or an array. */
function unitList(v) {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,;]+/) : [];
  const out = list.map((u) => String(u).trim()).filter(Boolean);
  if (out.length === 0) throw new LoaClientError('LOA_INPUT_INVALID', 'cần ít nhất một mã đơn vị');
  return out.map(checkUnit);
}

module.exports = { LoaClientError, createClient, fail, clientOf, checkUnit, unitList, normaliseUrl };
