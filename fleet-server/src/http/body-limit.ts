/**
 * Request body caps, enforced while the body streams in (a declared Content-Length is checked
 * first, but a chunked body declares nothing). Every route has a cap: the JSON API routes declare
 * theirs in the route table (`maxBodyBytes`, default `JSON_BODY_LIMIT`), raw uploads declare the
 * upload limit, and anything that declared nothing (dashboard forms among them) gets
 * `DEFAULT_BODY_LIMIT`. Past the cap the reader stops, the request is answered 413
 * `PAYLOAD_TOO_LARGE` with `Connection: close`, and the connection is closed instead of being read
 * to its end, so a 1 GB body costs the server at most one chunk beyond the cap.
 */
import { LoaError } from '@loa/protocol';
import type { Context, MiddlewareHandler } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';

/** Bodies of routes that declared no cap (forms, logins, commands without a schema). */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Default cap of a JSON API route with a body schema. */
export const JSON_BODY_LIMIT = 1024 * 1024;

export const BODY_TOO_LARGE = 'PAYLOAD_TOO_LARGE';

/** Route pattern → largest body accepted (hono path syntax, e.g. `/api/v1/devices/:id`). */
export class BodyCaps {
  private readonly router = new TrieRouter<number>();
  private readonly list: { method: string; path: string; maxBytes: number }[] = [];
  constructor(readonly fallback = DEFAULT_BODY_LIMIT) {}

  set(method: string, path: string, maxBytes: number): void {
    const m = method.toUpperCase();
    this.router.add(m, path, maxBytes);
    this.list.push({ method: m, path, maxBytes });
  }

  /** The cap of a request; when several patterns match, the largest declared one. */
  capFor(method: string, path: string): number {
    if (this.list.length === 0) return this.fallback;
    const [matches] = this.router.match(method.toUpperCase(), path);
    let cap: number | undefined;
    for (const [value] of matches) cap = Math.max(cap ?? 0, value);
    return cap ?? this.fallback;
  }

  /** Every declared cap (documentation, tests). */
  entries(): readonly { method: string; path: string; maxBytes: number }[] {
    return this.list;
  }
}

function tooLargeError(maxBytes: number): LoaError {
  return new LoaError(BODY_TOO_LARGE, `nội dung quá lớn (tối đa ${maxBytes} byte)`, {
    details: { maxBytes },
  });
}

/**
 * A stream that passes at most `maxBytes` of `src` and then errors with PAYLOAD_TOO_LARGE. It
 * stops pulling from `src` at that point without cancelling it (cancelling would destroy the
 * socket before the 413 could be written); the response's `Connection: close` ends the socket.
 */
export function capStream(
  src: ReadableStream<Uint8Array>,
  maxBytes: number,
  onExceeded: () => void,
): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        const r = await reader.read();
        if (r.done) {
          ctrl.close();
          return;
        }
        seen += r.value.byteLength;
        if (seen > maxBytes) {
          onExceeded();
          reader.releaseLock();
          ctrl.error(tooLargeError(maxBytes));
          return;
        }
        ctrl.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function tooLargeResponse(maxBytes: number): Response {
  const err = tooLargeError(maxBytes);
  return new Response(
    JSON.stringify({ error: { code: err.code, message: err.message, details: { maxBytes } } }),
    {
      status: 413,
      headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
    },
  );
}

/**
 * Middleware (first in the chain): wraps the body of every request that has one in a capped
 * stream, with the cap `capFor` gives for the route. Whatever reads the body afterwards (JSON,
 * form, multipart, a raw upload streamed to disk) reads through the cap.
 */
export function bodyLimit(capFor: (method: string, path: string) => number): MiddlewareHandler {
  return async (c: Context, next) => {
    const raw = c.req.raw;
    if (raw.method === 'GET' || raw.method === 'HEAD' || !raw.body) return next();
    const max = capFor(raw.method, c.req.path);
    const declared = raw.headers.get('content-length');
    if (declared !== null && Number(declared) > max) {
      c.res = tooLargeResponse(max);
      return;
    }
    let exceeded = false;
    c.req.raw = new Request(raw, {
      body: capStream(raw.body, max, () => {
        exceeded = true;
      }),
      duplex: 'half',
    } as RequestInit);
    await next();
    // whatever the reader made of the stream error, the answer is 413 and the socket closes
    if (exceeded && c.res.status !== 413) c.res = tooLargeResponse(max);
    else if (c.res.status === 413) {
      try {
        c.res.headers.set('connection', 'close');
      } catch {
        // immutable headers (a proxied response): node closes nothing, the cap still held
      }
    }
  };
}
