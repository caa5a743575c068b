/**
 * `loa-agent --test-tone`: a technician on the station's shell runs the line output's test tone
 * routine through the running agent's technician page (on the loopback address), so the routine
 * goes through the player exactly as from the page: relays sequenced, refused while an emergency
 * plays (EMERGENCY_ON_AIR), a proof signed. The password is the technician page's.
 */
import { LoaError } from '@loa/protocol';
import type { OutputProfile, ToneRoutineOptions, ToneStep } from '../domain/output-profile.js';

export interface ToneRoutineReply {
  profile: OutputProfile;
  steps: ToneStep[];
}

/** The page's address on this machine: a wildcard listen address is reached on loopback. */
export function localPageUrl(listen: string, port: number): string {
  const host = listen === '0.0.0.0' || listen === '' ? '127.0.0.1' : listen === '::' ? '[::1]' : listen;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/**
 * Logs in and starts the routine. Errors (LoaError): TECHNICIAN_UNREACHABLE (the agent or its
 * page is not running), TECHNICIAN_LOGIN_FAILED, or the routine's own code (EMERGENCY_ON_AIR,
 * TONE_ROUTINE_INVALID, …).
 */
export async function runToneRoutineOnStation(o: {
  baseUrl: string;
  password: string;
  options: ToneRoutineOptions;
}): Promise<ToneRoutineReply> {
  const call = async (path: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetch(`${o.baseUrl}${path}`, { ...init, redirect: 'manual' });
    } catch (cause) {
      throw new LoaError(
        'TECHNICIAN_UNREACHABLE',
        `Không kết nối được trang kỹ thuật ở ${o.baseUrl}: dịch vụ loa-agent có đang chạy và bật trang kỹ thuật không?`,
        { cause },
      );
    }
  };
  const login = await call('/login', { method: 'POST', body: new URLSearchParams({ password: o.password }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  await login.body?.cancel();
  if (login.status !== 303 || !cookie)
    throw new LoaError(
      'TECHNICIAN_LOGIN_FAILED',
      login.status === 429
        ? 'Sai mật khẩu quá nhiều lần, thử lại sau 1 phút.'
        : 'Mật khẩu kỹ thuật viên không đúng.',
    );
  const res = await call('/api/tone-routine', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(o.options),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<ToneRoutineReply> & {
    code?: string;
    message?: string;
  };
  if (!res.ok || !body.steps || !body.profile)
    throw new LoaError(body.code ?? 'TONE_ROUTINE_FAILED', body.message ?? `HTTP ${res.status}`);
  return { profile: body.profile, steps: body.steps };
}
