/**
 * A small HTTP client on node:http / node:https with the part of fetch()'s shape the agent uses
 * (status, ok, headers.get, an async-iterable body with cancel(), json(), an AbortSignal).
 * Why not the global fetch: Node loads its bundled undici on the first fetch() call, which keeps
 * ~10 MB more resident for the life of the process (measured: +14.8 MB RSS on Node 20 for one
 * request, +1.7 MB with node:http); a station idles for weeks after one enrolment and a few
 * downloads. The global fetch (or a wrapper of it, as the simulator injects) still fits `HttpFetch`.
 *
 * Behaviour kept from fetch: redirects are followed (at most 5; the authorization header is not
 * sent to another origin), the signal aborts the request and the body with its reason, a body
 * cut short by the connection rejects the iteration. No content-encoding is asked for, so none
 * has to be undone.
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { LoaError } from '@loa/protocol';
import { connectPinned } from './tls-pin.js';

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as UTF-8; bytes as they are (screenshot uploads). */
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

/** The response body: bytes as they arrive; cancel() drops the rest and the connection. */
export interface HttpBody extends AsyncIterable<Uint8Array> {
  cancel(reason?: unknown): Promise<void>;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  body: HttpBody | null;
  json(): Promise<unknown>;
}

/** What the agent's downloads and enrolment call; `httpFetch` here or the global fetch. */
export type HttpFetch = (url: string, init?: HttpRequestInit) => Promise<HttpResponse>;

const MAX_REDIRECTS = 5;

type RequestFn = (url: URL, options: RequestOptions, cb: (res: IncomingMessage) => void) => ClientRequest;

let httpsRequest: RequestFn | undefined;
let httpRequest: RequestFn | undefined;

/** node:https (and so TLS) is loaded only when a https URL is asked for. */
async function requestFn(url: URL): Promise<RequestFn> {
  if (url.protocol === 'http:') {
    httpRequest ??= (await import('node:http')).request;
    return httpRequest;
  }
  if (url.protocol === 'https:') {
    httpsRequest ??= (await import('node:https')).request;
    return httpsRequest;
  }
  throw new LoaError('HTTP_BAD_URL', `unsupported URL scheme in ${url.href}`);
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new LoaError('HTTP_ABORTED', 'the request was aborted', { cause: r });
}

class Headers {
  constructor(private readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

function response(res: IncomingMessage): HttpResponse {
  const status = res.statusCode ?? 0;
  const body: HttpBody = {
    [Symbol.asyncIterator]: () => res[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
    cancel: async () => {
      res.destroy();
    },
  };
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers(res.headers),
    body,
    async json() {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    },
  };
}

async function once(
  url: URL,
  init: HttpRequestInit,
  headers: Record<string, string>,
  tlsPin?: string,
): Promise<IncomingMessage> {
  const request = await requestFn(url);
  // A pinned https connection is handed to the request only once the server's key matched.
  const pinned: Partial<RequestOptions> =
    tlsPin && url.protocol === 'https:'
      ? {
          createConnection: ((
            opts: import('node:tls').ConnectionOptions,
            cb: (e: Error | null, s?: Socket) => void,
          ) => {
            import('node:tls').then(
              (tls) =>
                connectPinned(
                  tls,
                  {
                    host: opts.host ?? url.hostname,
                    port: Number(opts.port ?? url.port ?? 443),
                    servername: url.hostname,
                  },
                  tlsPin,
                  cb,
                ),
              (e: Error) => cb(e),
            );
            return undefined;
          }) as unknown as RequestOptions['createConnection'],
        }
      : {};
  const signal = init.signal;
  if (signal?.aborted) throw abortReason(signal);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body, 'utf8')
          : Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength);
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        ...pinned,
      },
      (res) => {
        signal?.removeEventListener('abort', onAbort);
        if (!signal) return resolve(res);
        // The signal keeps governing the body while it is read.
        const onBodyAbort = () => res.destroy(abortReason(signal));
        signal.addEventListener('abort', onBodyAbort, { once: true });
        res.once('close', () => signal.removeEventListener('abort', onBodyAbort));
        resolve(res);
      },
    );
    const onAbort = () => req.destroy(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    req.end(body);
  });
}

/** fetch()-like GET/POST over node:http(s); see the file comment for what it keeps of fetch. */
export const httpFetch: HttpFetch = (href, init) => request(href, init ?? {});

/**
 * An HttpFetch whose https connections must present the pinned key (see tls-pin.ts);
 * TLS_PIN_MISMATCH otherwise.
 */
export function createHttpFetch(opts: { tlsPin?: string }): HttpFetch {
  return (href, init) => request(href, init ?? {}, opts.tlsPin);
}

async function request(href: string, init: HttpRequestInit, tlsPin?: string): Promise<HttpResponse> {
  let url = new URL(href);
  let headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  let method = init.method ?? 'GET';
  let body = init.body;
  for (let hop = 0; ; hop++) {
    const res = await once(
      url,
      { method, ...(body === undefined ? {} : { body }), ...(init.signal ? { signal: init.signal } : {}) },
      headers,
      tlsPin,
    );
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status < 300 || status >= 400 || status === 304 || !location) return response(res);
    res.resume(); // drop the redirect's own body
    if (hop >= MAX_REDIRECTS)
      throw new LoaError('HTTP_REDIRECTS', `more than ${MAX_REDIRECTS} redirects from ${href}`);
    const next = new URL(location, url);
    if (next.origin !== url.origin) {
      const { authorization: _a, ...rest } = headers;
      headers = rest;
    }
    // As fetch does: 303 (and 301/302 after a POST) become a GET without a body.
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      const { 'content-type': _c, ...rest } = headers;
      headers = rest;
    }
    url = next;
  }
}
