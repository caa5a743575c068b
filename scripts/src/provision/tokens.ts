/**
 * One-time enrolment tokens for a provisioning run: created on the fleet server with a
 * technician's API token (POST /api/v1/enrol-tokens, one token per station, one use each, noted
 * with the station id), or read from a file (one token per line, in the CSV's order). When the
 * server refuses one token halfway, the tokens already made in this run are revoked again
 * (DELETE /api/v1/enrol-tokens/:id): all or nothing.
 */
import { readFile } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import type { StationRow } from './stations.js';

export interface ServerTokenOptions {
  server: string;
  apiToken: string;
  ttlHours: number;
  kind: 'station' | 'noticeboard';
  fetch?: typeof fetch;
}

interface Created {
  token: string;
  record: { id: string };
}

async function call(o: ServerTokenOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = `${o.server.replace(/\/+$/, '')}/api/v1${path}`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, {
      method,
      headers: {
        authorization: `Bearer ${o.apiToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new LoaError('SERVER_UNREACHABLE', `không kết nối được máy chủ ${url}`, { cause });
  }
  const json = (await res.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined;
  if (!res.ok)
    throw new LoaError(
      json?.error?.code ?? `HTTP_${res.status}`,
      `máy chủ từ chối ${method} ${path}: ${json?.error?.message ?? `HTTP ${res.status}`}`,
      { details: { status: res.status } },
    );
  return json;
}

async function revokeAll(o: ServerTokenOptions, made: readonly Created[]): Promise<string[]> {
  const failed: string[] = [];
  for (const c of made)
    await call(o, 'DELETE', `/enrol-tokens/${c.record.id}`).catch(() => failed.push(c.record.id));
  return failed;
}

/**
 * Creates one token per station; on any failure revokes those made so far and throws. The
 * result can revoke them all again (when a later step of the run fails).
 */
export async function createServerTokens(
  rows: readonly StationRow[],
  o: ServerTokenOptions,
): Promise<{ token: string; id: string }[] & { revoke(): Promise<void> }> {
  const made: Created[] = [];
  try {
    for (const r of rows) {
      const c = (await call(o, 'POST', '/enrol-tokens', {
        unit: r.unit,
        kind: o.kind,
        maxUses: 1,
        ttlHours: o.ttlHours,
        note: `loa provision: ${r.stationId} (${r.label})`.slice(0, 500),
      })) as Created;
      if (typeof c?.token !== 'string' || typeof c.record?.id !== 'string')
        throw new LoaError('SERVER_BAD_ANSWER', 'máy chủ trả lời tạo mã đăng ký không đúng dạng');
      made.push(c);
    }
  } catch (e) {
    const failed = await revokeAll(o, made);
    if (e instanceof LoaError && failed.length > 0)
      e.message += `; không thu hồi được ${failed.length} mã đã tạo (${failed.join(', ')}): hãy thu hồi trên trang Đăng ký thiết bị`;
    throw e;
  }
  return Object.assign(
    made.map((c) => ({ token: c.token, id: c.record.id })),
    {
      revoke: async () => {
        const failed = await revokeAll(o, made);
        if (failed.length > 0)
          throw new LoaError(
            'TOKENS_NOT_REVOKED',
            `không thu hồi được ${failed.length} mã đăng ký: ${failed.join(', ')}`,
          );
      },
    },
  );
}

/** Tokens from a file: one per line; blank lines and # comments skipped. */
export async function readTokenFile(path: string, count: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new LoaError('TOKENS_NOT_FOUND', `không đọc được tệp mã đăng ký ${path}`, { cause });
  }
  const tokens = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const bad = tokens.findIndex((t) => t.length < 16 || t.length > 200 || /\s/.test(t));
  if (bad >= 0)
    throw new LoaError(
      'TOKENS_INVALID',
      `mã đăng ký thứ ${bad + 1} trong ${path} không hợp lệ (16–200 ký tự, không dấu cách)`,
    );
  if (new Set(tokens).size !== tokens.length)
    throw new LoaError('TOKENS_DUPLICATE', `tệp ${path} có mã đăng ký trùng nhau`);
  if (tokens.length < count)
    throw new LoaError('TOKENS_TOO_FEW', `tệp ${path} có ${tokens.length} mã đăng ký cho ${count} trạm`);
  return tokens.slice(0, count);
}
