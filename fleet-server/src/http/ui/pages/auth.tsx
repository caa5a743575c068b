/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Login, logout, password change, language switch. */
import type { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import type { AppEnv } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { LANG_COOKIE } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, ctxOf, ensureUser, readForm, str, type UiServer } from '../shared.js';

function safeNext(next: string | undefined): string {
  return next && /^\/ui(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : ui('/');
}

function LoginPage(props: { ctx: UiCtx; errors?: FieldErrors; username?: string; next: string }) {
  const { ctx, errors } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('login.title')} bodyClass="login">
      <section class="card login-box">
        <p class="muted">{t('login.intro')}</p>
        <FormErrorSummary ctx={ctx} errors={errors} />
        <form method="post" action={ui('/login')} class="stack" novalidate>
          <input type="hidden" name="next" value={props.next} />
          <Field ctx={ctx} name="username" label={t('login.username')} errors={errors}>
            <input
              {...fieldAttrs(errors, 'username')}
              value={props.username ?? ''}
              autocomplete="username"
              required
            />
          </Field>
          <Field ctx={ctx} name="password" label={t('login.password')} errors={errors}>
            <input
              {...fieldAttrs(errors, 'password')}
              type="password"
              autocomplete="current-password"
              required
            />
          </Field>
          <div class="actions">
            <button type="submit">{t('login.submit')}</button>
          </div>
        </form>
      </section>
    </Layout>
  );
}

function PasswordPage(props: { ctx: UiCtx; errors?: FieldErrors }) {
  const { ctx, errors } = props;
  const t = ctx.t;
  return (
    <Layout ctx={ctx} title={t('login.changeTitle')}>
      <section class="card login-box">
        <p>{t('login.changeIntro')}</p>
        <FormErrorSummary ctx={ctx} errors={errors} />
        <form method="post" action={ui('/password')} class="stack" novalidate>
          <Csrf ctx={ctx} />
          <Field ctx={ctx} name="currentPassword" label={t('login.password')} errors={errors}>
            <input
              {...fieldAttrs(errors, 'currentPassword')}
              type="password"
              autocomplete="current-password"
            />
          </Field>
          <Field ctx={ctx} name="newPassword" label={t('login.newPassword')} errors={errors}>
            <input {...fieldAttrs(errors, 'newPassword')} type="password" autocomplete="new-password" />
          </Field>
          <Field ctx={ctx} name="newPassword2" label={t('login.newPassword2')} errors={errors}>
            <input {...fieldAttrs(errors, 'newPassword2')} type="password" autocomplete="new-password" />
          </Field>
          <div class="actions">
            <button type="submit">{t('common.save')}</button>
          </div>
        </form>
      </section>
    </Layout>
  );
}

export function registerAuthPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/login', async (c) => {
    const user = await ensureUser(c, s);
    const next = safeNext(c.req.query('next'));
    if (user) return c.redirect(next, 303);
    return c.html(<LoginPage ctx={ctxOf(c, s)} next={next} />);
  });

  app.post('/ui/login', async (c) => {
    const f = await readForm(c);
    const username = str(f, 'username');
    const password = typeof f.password === 'string' ? f.password : '';
    const next = safeNext(str(f, 'next'));
    const ctx = ctxOf(c, s);
    const errors: FieldErrors = {};
    if (!username) errors.username = { key: 'err.required' };
    else if (username.length > 64) errors.username = { key: 'err.tooLong', params: { max: 64 } };
    if (!password) errors.password = { key: 'err.required' };
    if (Object.keys(errors).length === 0) {
      const r = await callApi(s.api, c, 'POST', '/auth/login', { username, password });
      if (r.ok) {
        for (const sc of r.setCookie) c.header('set-cookie', sc, { append: true });
        return c.redirect(next, 303);
      }
      if (r.code === 'AUTH_RATE_LIMITED') errors._form = { key: 'err.loginLimited' };
      else if (r.code === 'AUTH_INVALID') errors.password = { key: 'err.loginFailed' };
      else Object.assign(errors, apiFieldErrors(r));
    }
    return c.html(<LoginPage ctx={ctx} errors={errors} username={username} next={next} />, 400);
  });

  app.post('/ui/logout', async (c) => {
    const user = await ensureUser(c, s);
    if (user) {
      checkFormCsrf(c, await readForm(c));
      const r = await callApi(s.api, c, 'POST', '/auth/logout', {});
      if (r.ok) for (const sc of r.setCookie) c.header('set-cookie', sc, { append: true });
    }
    return c.redirect(ui('/login'), 303);
  });

  app.get('/ui/password', async (c) => {
    const user = await ensureUser(c, s);
    if (!user) return c.redirect(ui('/login'), 303);
    return c.html(<PasswordPage ctx={ctxOf(c, s)} />);
  });

  app.post('/ui/password', async (c) => {
    const user = await ensureUser(c, s);
    if (!user) return c.redirect(ui('/login'), 303);
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const ctx = ctxOf(c, s);
    const cur = typeof f.currentPassword === 'string' ? f.currentPassword : '';
    const next = typeof f.newPassword === 'string' ? f.newPassword : '';
    const next2 = typeof f.newPassword2 === 'string' ? f.newPassword2 : '';
    const errors: FieldErrors = {};
    if (!cur) errors.currentPassword = { key: 'err.required' };
    if (!next) errors.newPassword = { key: 'err.required' };
    else if (next.length < 10) errors.newPassword = { key: 'err.password', params: { min: 10 } };
    if (next && next !== next2) errors.newPassword2 = { key: 'err.passwordMismatch' };
    if (Object.keys(errors).length === 0) {
      const r = await callApi(s.api, c, 'POST', '/auth/password', {
        currentPassword: cur,
        newPassword: next,
      });
      if (r.ok) {
        for (const sc of r.setCookie) c.header('set-cookie', sc, { append: true });
        return c.redirect(ui('/'), 303);
      }
      if (r.code === 'AUTH_INVALID') errors.currentPassword = { key: 'err.loginFailed' };
      else if (r.code === 'PASSWORD_WEAK') errors.newPassword = r.message;
      else Object.assign(errors, apiFieldErrors(r));
    }
    return c.html(<PasswordPage ctx={ctx} errors={errors} />, 400);
  });

  app.get('/ui/lang/:lang', (c) => {
    const lang = c.req.param('lang') === 'en' ? 'en' : 'vi';
    setCookie(c, LANG_COOKIE, lang, { path: '/', sameSite: 'Lax', maxAge: 365 * 86_400 });
    return c.redirect(safeNext(c.req.query('back')), 303);
  });
}
