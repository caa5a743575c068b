/**
 * A small client of the fleet server's JSON API (/api/v1) with a Bearer API token. Errors carry
 * the server's stable code ({error:{code,message}}) as a LoaError.
 */
import { LoaError } from '@loa/protocol';

export class FleetApi {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { raw?: Uint8Array; contentType?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: string | Uint8Array | undefined;
    if (opts.raw) {
      payload = opts.raw;
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method: method.toUpperCase(),
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
    } catch (cause) {
      throw new LoaError('FLEET_UNREACHABLE', `cannot reach ${this.baseUrl}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new LoaError(
        err?.code ?? `HTTP_${res.status}`,
        `${method.toUpperCase()} ${path}: ${err?.message ?? text.slice(0, 300)}`,
        { details: { status: res.status } },
      );
    }
    return json as T;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.call<T>('get', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('post', path, body ?? {});
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.call<T>('put', path, body);
  }
}
