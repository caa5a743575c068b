/**
 * A real fleet server for the Node-RED tests: content + integrations plugins on 127.0.0.1, the
 * units of a small province, users of each role with API tokens, an operator whose server-held key
 * the province delegated for emergencies and commands, and the Node-RED test helper.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CapRecord } from '../../fleet-server/src/domain/cap/intake.js';
import { dashboardPlugin } from '../../fleet-server/src/plugins/dashboard.js';
import { type IntegrationsPlugin, integrationsPlugin } from '../../fleet-server/src/plugins/integrations.js';
import { reportsPlugin } from '../../fleet-server/src/plugins/reports.js';
import { type Harness, startHarness, type TestUser } from '../fleet-server/publish/harness.js';

export const require = createRequire(import.meta.url);

export interface Loa {
  h: Harness;
  admin: TestUser;
  editor: TestUser;
  operator: TestUser;
  viewer: TestUser;
  /** CAP records on the server, newest first. */
  capRecords(): CapRecord[];
}

export const UNITS = [
  { path: '08', code: '08', name: 'Tỉnh Tuyên Quang', level: 'province', parent: null },
  { path: '08/02500', code: '02500', name: 'Xã Minh Quang', level: 'commune', parent: '08' },
  { path: '08/02600', code: '02600', name: 'Xã Lâm Bình', level: 'commune', parent: '08' },
];

export async function startLoa(opts: { offlineMinutes?: number } = {}): Promise<Loa> {
  let integrations: IntegrationsPlugin | undefined;
  const h = await startHarness({
    // made anew at each (re)start, after the content plugin: integrations, then the dashboard
    plugins: (content) => {
      integrations = integrationsPlugin({ content });
      const reports = reportsPlugin();
      return [integrations, reports, dashboardPlugin({ content, reports })];
    },
    alertRules: { offlineMinutes: opts.offlineMinutes ?? 1 },
  });
  const at = new Date().toISOString();
  await h.server.deps.store.units.putMany(UNITS.map((u) => ({ ...u, createdAt: at, updatedAt: at })));
  const admin = await h.user('quantri.tinh', 'administrator', ['08']);
  const editor = await h.user('bientap.tinh', 'editor', ['08']);
  const operator = await h.user('vanhanh.tinh', 'operator', ['08']);
  const viewer = await h.user('xem.tinh', 'viewer', ['08']);
  const keys: { pub: string; roles: ('emergency' | 'command' | 'content')[]; scope: string[] }[] = [];
  for (const u of [operator, admin]) {
    const k = await h.api<{ publicKey: string }>(u, 'POST', '/api/v1/signing-keys/me');
    if (k.status !== 201 && k.status !== 200)
      throw new Error(`signing key: ${k.status} ${JSON.stringify(k.body)}`);
    keys.push({ pub: k.body.publicKey, roles: ['emergency', 'command', 'content'], scope: ['08'] });
  }
  await h.installTrust(keys);
  return {
    h,
    admin,
    editor,
    operator,
    viewer,
    capRecords: () => integrations?.cap.list(1000) ?? [],
  };
}

/** Node-RED's own nodes the example flows use, for the test helper. */
export function coreNodes(): unknown[] {
  const core = (p: string) => require(`@node-red/nodes/core/${p}`);
  return [
    core('common/20-inject.js'),
    core('common/21-debug.js'),
    core('common/90-comment.js'),
    core('function/10-function.js'),
    core('network/21-httpin.js'),
    core('network/21-httprequest.js'),
  ];
}

/** The palette's node modules. */
export function paletteNodes(): unknown[] {
  return ['loa-server', 'loa-bulletin', 'loa-emergency', 'loa-events', 'loa-stats', 'loa-cap'].map((n) =>
    require(`../../flows/nodes/${n}.js`),
  );
}

/**
 * A CAP sample from fixtures/cap, its day (2026-06-12) moved to tomorrow in Vietnam so that its
 * <expires> lies ahead of the server's clock (an expired alert is only recorded).
 */
export function capSample(name: string): string {
  const xml = readFileSync(new URL(`./fixtures/cap/${name}`, import.meta.url), 'utf8');
  const tomorrow = new Date(Date.now() + 7 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
  return xml.replaceAll('2026-06-12T', `${tomorrow}T`);
}
