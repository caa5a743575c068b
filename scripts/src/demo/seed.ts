/**
 * First-run seeding of the demo through the server's own API: the demo province's units, an
 * editor, an approver and an operator with server-held signing keys delegated by the demo root,
 * spoken bulletins uploaded (the server transcodes and normalises them), a daily programme at
 * 05:30 and 17:00 composed, signed by editor and approver, published; enrolment tokens for the
 * simulated stations and noticeboards.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_UNITS_FILE, type FleetServer } from '@loa/fleet-server';
import type { KeyPair } from '@loa/protocol';
import type { FleetApi } from '../sim/fleet-api.js';
import {
  apiAsUser,
  buildTrustPolicy,
  type CreatedUser,
  createEnrolmentToken,
  createUsers,
} from '../sim/provision.js';
import { type Bulletin, EVENING, MORNING, NOTICE_TEXT, SOON, speak } from './bulletins.js';

/** Four communes of the former Sơn Dương district (demo codes from the server's seed file). */
export const DEMO_COMMUNES = [
  { unit: '08/02500', name: 'Thị trấn Sơn Dương', stations: 3, noticeboards: 1 },
  { unit: '08/02503', name: 'Xã Tân Trào', stations: 3, noticeboards: 1 },
  { unit: '08/02506', name: 'Xã Minh Thanh', stations: 3, noticeboards: 0 },
  { unit: '08/02509', name: 'Xã Trung Yên', stations: 3, noticeboards: 0 },
] as const;

/**
 * Approximate centres of the four communes (WGS 84), so the demo's map shows stations where such
 * stations stand: along the roads of the former Sơn Dương district, Tuyên Quang.
 */
export const COMMUNE_CENTRES: Record<string, { lat: number; lon: number }> = {
  '08/02500': { lat: 21.6976, lon: 105.3987 },
  '08/02503': { lat: 21.7844, lon: 105.4283 },
  '08/02506': { lat: 21.7411, lon: 105.4694 },
  '08/02509': { lat: 21.6612, lon: 105.3531 },
};

/**
 * Gives every demo device without a position one near its commune's centre (spread on a small
 * ring, the same on every start). Returns how many were placed.
 */
export async function placeDemoDevices(server: FleetServer): Promise<number> {
  const devices = await server.deps.store.devices.list();
  let placed = 0;
  for (const c of DEMO_COMMUNES) {
    const centre = COMMUNE_CENTRES[c.unit];
    if (!centre) continue;
    const here = devices.filter((d) => d.unit === c.unit).sort((a, b) => a.name.localeCompare(b.name));
    for (const [i, d] of here.entries()) {
      if (d.location) continue;
      const angle = (2 * Math.PI * i) / Math.max(1, here.length);
      const r = d.kind === 'noticeboard' ? 0.002 : 0.012;
      await server.deps.store.devices.update(d.id, {
        location: {
          lat: Math.round((centre.lat + r * Math.sin(angle)) * 1e5) / 1e5,
          lon: Math.round((centre.lon + r * Math.cos(angle)) * 1e5) / 1e5,
        },
      });
      placed++;
    }
  }
  return placed;
}

export const DEMO_CHANNEL = 'son-duong';
const ROLE_LABEL: Record<string, string> = {
  bientap: 'Biên tập:',
  pheduyet: 'Phê duyệt:',
  vanhanh: 'Vận hành:',
};
export const ANNOUNCE_CHANNEL = 'thong-bao';

export interface DemoState {
  seededAt: string;
  /** When the daily programme was published (after the devices first connected). */
  programmeAt?: string;
  users: { username: string; role: string; password: string }[];
  /** Enrolment tokens per unit (used once by the simulated devices). */
  tokens: { unit: string; kind: 'station' | 'noticeboard'; token: string }[];
  content: Record<string, string>;
}

async function upload(api: FleetApi, b: Bulletin, wav: string, unit: string): Promise<string> {
  const q = new URLSearchParams({
    title: b.title,
    unit,
    lang: 'vi',
    category: b.category,
    name: `${b.id}.wav`,
    kind: 'audio',
  });
  const rec = await api.call<{ id: string }>('post', `/content/upload?${q}`, undefined, {
    raw: await readFile(wav),
    contentType: 'audio/wav',
  });
  return rec.id;
}

/** Draft → submit (editor signs) → approve (approver signs) → publish. */
export async function publishBundle(editor: FleetApi, approver: FleetApi, draft: unknown): Promise<string> {
  const b = await editor.post<{ id: string }>('/bundles', draft);
  await editor.post(`/bundles/${b.id}/submit`, { sign: true });
  await approver.post(`/bundles/${b.id}/approve`, { sign: true });
  await approver.post(`/bundles/${b.id}/publish`);
  return b.id;
}

export async function seedDemo(
  server: FleetServer,
  admin: FleetApi,
  root: KeyPair,
  log: (m: string) => void,
): Promise<DemoState> {
  log('nhập đơn vị hành chính (dữ liệu demo tỉnh Tuyên Quang)…');
  await admin.post('/units/import', { format: 'csv', data: await readFile(DEMO_UNITS_FILE, 'utf8') });
  log('tạo người dùng biên tập, duyệt, vận hành và khoá ký trên máy chủ…');
  const users: CreatedUser[] = await createUsers(server, admin, [
    {
      username: 'bientap',
      displayName: 'Nguyễn Thị Lan',
      role: 'editor',
      scope: ['08'],
      signingRoles: ['content'],
    },
    {
      username: 'pheduyet',
      displayName: 'Trần Văn Hùng',
      role: 'approver',
      scope: ['08'],
      signingRoles: ['content'],
    },
    {
      username: 'vanhanh',
      displayName: 'Lê Minh Tuấn',
      role: 'operator',
      scope: ['08'],
      signingRoles: ['emergency', 'command'],
    },
  ]);
  const roles: Record<string, ('content' | 'live' | 'emergency' | 'command')[]> = {
    bientap: ['content', 'live'],
    pheduyet: ['content', 'live'],
    vanhanh: ['emergency', 'command'],
  };
  const policy = buildTrustPolicy({
    root,
    version: 1,
    now: new Date(server.deps.clock.now()),
    delegations: users.flatMap((u) =>
      u.signingKey
        ? [{ name: u.username, ...u.signingKey, roles: roles[u.username] ?? ['content'], scope: ['08'] }]
        : [],
    ),
    // two people sign ordinary content: the editor and the approver
    thresholds: { content: 2 },
  });
  await admin.put('/trust', policy);

  const [editor, approver] = users;
  if (!editor || !approver) throw new Error('demo users missing');
  log('đọc các bản tin bằng espeak-ng (tiếng Việt) và tải lên máy chủ để chuyển mã…');
  const tmp = await mkdtemp(join(tmpdir(), 'loa-demo-'));
  const content: Record<string, string> = {};
  try {
    for (const b of [MORNING, EVENING, SOON])
      content[b.id] = await upload(editor.api, b, await speak(b, tmp), '08');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const notice = await editor.api.post<{ id: string }>('/content/text', {
    title: NOTICE_TEXT.title,
    unit: '08',
    lang: 'vi',
    text: NOTICE_TEXT.text,
    category: 'health',
    durationMs: 20_000,
  });
  content['lich-tiem'] = notice.id;
  // the bulletins are for everyone: shown on the communes' public pages once published
  for (const id of Object.values(content))
    await editor.api.put(`/content/${encodeURIComponent(id)}/public`, { public: true });

  const tokens: DemoState['tokens'] = [];
  for (const c of DEMO_COMMUNES) {
    tokens.push({
      unit: c.unit,
      kind: 'station',
      token: await createEnrolmentToken(admin, {
        unit: c.unit,
        kind: 'station',
        maxUses: c.stations,
        ttlHours: 24 * 30,
        note: 'demo',
      }),
    });
    if (c.noticeboards > 0)
      tokens.push({
        unit: c.unit,
        kind: 'noticeboard',
        token: await createEnrolmentToken(admin, {
          unit: c.unit,
          kind: 'noticeboard',
          maxUses: c.noticeboards,
          ttlHours: 24 * 30,
          note: 'demo',
        }),
      });
  }
  return {
    seededAt: new Date().toISOString(),
    users: users.map((u) => ({
      username: u.username,
      role: ROLE_LABEL[u.username] ?? u.username,
      password: u.password,
    })),
    tokens,
    content,
  };
}

/**
 * The daily programme (05:30 and 17:00) and the noticeboards' bulletin. Published once the
 * simulated devices are connected: the server notifies devices when a bundle is published and
 * has no catch-up for devices that enrol later (see the report).
 */
export async function publishProgramme(server: FleetServer, state: DemoState): Promise<string> {
  const editor = await apiAsUser(server, 'bientap', 1);
  const approver = await apiAsUser(server, 'pheduyet', 1);
  return publishBundle(editor, approver, {
    channel: DEMO_CHANNEL,
    description: 'Chương trình phát thanh hằng ngày (demo)',
    targets: [{ unit: '08' }],
    items: [
      { content: state.content[MORNING.id], id: MORNING.id, title: MORNING.title },
      { content: state.content[EVENING.id], id: EVENING.id, title: EVENING.title },
      { content: state.content['lich-tiem'], id: 'lich-tiem', title: NOTICE_TEXT.title },
    ],
    schedule: [
      { id: 'sang', items: [MORNING.id, EVENING.id], rule: { type: 'daily', times: ['05:30'] } },
      { id: 'chieu', items: [EVENING.id, MORNING.id], rule: { type: 'daily', times: ['17:00'] } },
      { id: 'bang-tin', items: ['lich-tiem'], rule: { type: 'daily', times: ['06:00', '11:00', '17:30'] } },
    ],
    // No quiet hours in the demo: they hold every non-emergency item on the station (the protocol's
    // `quietHours`), so a demo started in the evening would never play its announcement. A commune
    // sets its own, e.g. 22:00–05:00, on its programme or in its stations' policy.
  });
}

/** On every start: an announcement a few minutes from now, so a newcomer sees and hears it play. */
export async function publishSoon(server: FleetServer, state: DemoState, at: Date): Promise<string> {
  const editor = await apiAsUser(server, 'bientap', 1);
  const approver = await apiAsUser(server, 'pheduyet', 1);
  const soonId = state.content[SOON.id];
  if (!soonId) throw new Error('demo content missing: thong-bao-thu');
  return publishBundle(editor, approver, {
    channel: ANNOUNCE_CHANNEL,
    description: 'Thông báo thử nghiệm vài phút sau khi khởi động demo',
    targets: [{ unit: '08' }],
    items: [{ content: soonId, id: SOON.id, title: SOON.title, priority: 'priority' }],
    schedule: [{ id: 'sap-toi', items: [SOON.id], rule: { type: 'once', at: at.toISOString() } }],
    expires: new Date(at.getTime() + 86_400_000).toISOString(),
  });
}
