/**
 * A real fleet server with the content and citizens plugins (and the dashboard), the demo units,
 * an editor, an approver and an operator with server-held keys under a trust policy, and helpers
 * to publish programmes and send emergencies through the real API.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BundleRecord, ContentRecord } from '../../../fleet-server/src/domain/model.js';
import { type CitizensPlugin, citizensPlugin } from '../../../fleet-server/src/plugins/citizens.js';
import { dashboardPlugin } from '../../../fleet-server/src/plugins/dashboard.js';
import { DEMO_UNITS_FILE, seedUnitsFromFile } from '../../../fleet-server/src/seed.js';
import { type Harness, startHarness, type TestUser } from '../publish/harness.js';

const run = promisify(execFile);

export interface CitizensHarness {
  h: Harness;
  citizens: () => CitizensPlugin;
  editor: TestUser;
  approver: TestUser;
  operator: TestUser;
  /** Uploads spoken audio (espeak-ng → ffmpeg → station Opus) as a content item. */
  speech(
    text: string,
    meta: { title: string; unit: string; public?: boolean; category?: string; lang?: string },
  ): Promise<ContentRecord>;
  text(body: Record<string, unknown>): Promise<ContentRecord>;
  /** Draft → submit → approve → publish. */
  publish(draft: Record<string, unknown>): Promise<BundleRecord>;
  emergency(unit: string, title: string, text: string): Promise<string>;
}

export async function startCitizens(
  opts: { powBits?: number; feedback?: Record<string, number> } = {},
): Promise<CitizensHarness> {
  let plugin: CitizensPlugin | undefined;
  const h = await startHarness({
    twoPerson: false,
    plugins: (content) => {
      plugin = citizensPlugin({
        content,
        powBits: opts.powBits ?? 8,
        pushAllowLoopbackHttp: true,
        pageMaxAgeS: 15,
        ...(opts.feedback ? { feedback: opts.feedback } : {}),
      });
      return [dashboardPlugin({ content, liveIntervalMs: 250 }), plugin];
    },
  });
  await seedUnitsFromFile(h.server.deps.store, DEMO_UNITS_FILE, new Date(h.now()).toISOString());
  const editor = await h.user('bientap.xa', 'editor', ['08']);
  const approver = await h.user('pheduyet.tinh', 'approver', ['08']);
  const operator = await h.user('vanhanh.xa', 'operator', ['08/02509']);
  const keys = [];
  for (const [u, roles] of [
    [editor, ['content']],
    [approver, ['content', 'emergency']],
    [operator, ['emergency']],
  ] as const) {
    const k = await h.api<{ publicKey: string }>(u, 'POST', '/api/v1/signing-keys/me');
    keys.push({ pub: k.body.publicKey, roles: [...roles], scope: ['08'] });
  }
  await h.installTrust(keys, { content: 1 });
  return {
    h,
    citizens: () => plugin as CitizensPlugin,
    editor,
    approver,
    operator,
    async speech(text, meta) {
      const wav = join(h.dir, `speech-${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
      await run('espeak-ng', ['-v', meta.lang ?? 'vi', '-s', '160', '-w', wav, '--', text]);
      const q = new URLSearchParams({
        title: meta.title,
        unit: meta.unit,
        lang: meta.lang ?? 'vi',
        name: 'ban-tin.wav',
        ...(meta.category ? { category: meta.category } : {}),
        ...(meta.public ? { public: 'true' } : {}),
      });
      const r = await h.api<ContentRecord>(
        editor,
        'POST',
        `/api/v1/content/upload?${q}`,
        await readFile(wav),
        {
          'content-type': 'audio/wav',
        },
      );
      if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async text(body) {
      const r = await h.api<ContentRecord>(editor, 'POST', '/api/v1/content/text', body);
      if (r.status !== 201) throw new Error(`text failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async publish(draft) {
      const d = await h.api<BundleRecord>(editor, 'POST', '/api/v1/bundles', draft);
      if (d.status !== 201) throw new Error(`draft failed: ${d.status} ${JSON.stringify(d.body)}`);
      for (const [u, step] of [
        [editor, 'submit'],
        [approver, 'approve'],
      ] as const) {
        const r = await h.api(u, 'POST', `/api/v1/bundles/${d.body.id}/${step}`, { sign: true });
        if (r.status !== 200) throw new Error(`${step} failed: ${r.status} ${JSON.stringify(r.body)}`);
      }
      const p = await h.api<BundleRecord>(approver, 'POST', `/api/v1/bundles/${d.body.id}/publish`);
      if (p.status !== 200) throw new Error(`publish failed: ${p.status} ${JSON.stringify(p.body)}`);
      return p.body;
    },
    async emergency(unit, title, text) {
      const r = await h.api<{ bundle: { id: string } }>(operator, 'POST', '/api/v1/emergency', {
        unit,
        title,
        text,
      });
      if (r.status !== 201) throw new Error(`emergency failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.bundle.id;
    },
  };
}
