/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * "Phát lại" / "Kéo dài" on an emergency's progress page: the operator sends an emergency in
 * progress again, with more repeats or a longer validity if wanted; the API signs the new bundle
 * with the person's key like the original (services/emergency-service.ts `repeat`).
 */
import type { Hono } from 'hono';
import type { BundleRecord } from '../../../domain/model.js';
import { can } from '../../../domain/rbac.js';
import type { AppEnv } from '../../auth.js';
import { callApi } from '../api-client.js';
import { Csrf } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, guard, readForm, str, type UiServer } from '../shared.js';

const VALID_CHOICES = [120, 240, 480, 720];

export function RepeatControl(props: { ctx: UiCtx; bundle: BundleRecord }) {
  const { ctx, bundle: b } = props;
  const t = ctx.t;
  if (b.state !== 'published' || !ctx.user || !can(ctx.user.role, 'emergency.send')) return null;
  const req = (b.meta?.request ?? {}) as { repeat?: number; validMinutes?: number };
  return (
    <form method="post" action={ui(`/emergency/${encodeURIComponent(b.id)}/repeat`)} class="emg-repeat">
      <Csrf ctx={ctx} />
      <label>
        {t('emgx.repeat')}{' '}
        <input type="number" name="repeat" min={1} max={20} value={String(req.repeat ?? 3)} required />
      </label>
      <label>
        {t('emgx.valid')}{' '}
        <select name="validMinutes">
          {VALID_CHOICES.map((m) => (
            <option value={String(m)} selected={m === (req.validMinutes ?? 120)}>
              {t('emgx.hours', { n: m / 60 })}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" data-repeat-button={b.id}>
        {t('emgx.send')}
      </button>
      <small class="muted">{t('emgx.help')}</small>
    </form>
  );
}

export function registerEmergencyRepeatPages(app: Hono<AppEnv>, s: UiServer): void {
  app.post('/ui/emergency/:id/repeat', async (c) => {
    const g = await guard(c, s, 'emergency.send');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const id = c.req.param('id');
    const r = await callApi<{ bundle: { id: string } }>(
      s.api,
      c,
      'POST',
      `/emergency/${encodeURIComponent(id)}/repeat`,
      {
        repeat: Number(str(f, 'repeat')),
        validMinutes: Number(str(f, 'validMinutes')),
      },
    );
    if (r.ok)
      return c.redirect(`${ui(`/emergency/${encodeURIComponent(r.data.bundle.id)}`)}?ok=emgx.sent`, 303);
    const t = g.ctx.t;
    return c.html(
      <Layout ctx={g.ctx} title={t('emgx.failed')}>
        <p class="flash error" role="alert">
          {t('emgx.failed')}: {r.message} ({r.code})
        </p>
        <p>
          <a href={ui(`/emergency/${encodeURIComponent(id)}`)}>{t('emgx.back')}</a>
        </p>
      </Layout>,
      r.status as 400,
    );
  });
}
