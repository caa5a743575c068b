/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Administration: users (role, unit scope), units import, audit log viewer. Actions via the API. */
import { isLoaError, UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import { MAX_BOUNDARIES_BYTES, parseBoundaries } from '../../../domain/boundaries.js';
import { type UnitRecord, USER_ROLES, type UserRole } from '../../../domain/model.js';
import { BoundariesFile } from '../../../services/boundaries-file.js';
import type { AppEnv } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { BOUNDARIES_FORM_LIMIT, type BoundariesForm, BoundariesSection } from './admin-boundaries.js';

interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  scope: string[];
  disabled: boolean;
  mustChangePassword: boolean;
}

interface AdminVm {
  users: PublicUser[];
  units: UnitRecord[];
  userForm?: {
    values: Record<string, string>;
    errors?: FieldErrors;
    created?: { username: string; password: string };
  };
  unitForm?: { csv: string; errors?: FieldErrors; imported?: number };
  boundaries: BoundariesForm;
}

/** A unit's level in words ("Xã"), the stored value for a level the table does not know. */
function levelWords(ctx: UiCtx, level: string): string {
  const key = `level.${level}` as MsgKey;
  const out = ctx.t(key);
  return out === key ? level : out;
}

function AdminPage(props: { ctx: UiCtx; vm: AdminVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const uf = vm.userForm;
  const ue = uf?.errors;
  const v = uf?.values ?? {};
  return (
    <Layout ctx={ctx} title={t('admin.title')}>
      <p>
        <a href={ui('/admin/audit')}>{t('admin.audit')}</a> ·{' '}
        <a href={ui('/enrolments')}>{t('admin.tokens')}</a>
      </p>
      <Section title={t('admin.users')} id="users">
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('login.username')}</th>
                <th>{t('admin.displayName')}</th>
                <th>{t('admin.role')}</th>
                <th>{t('admin.scope')}</th>
                <th>{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {vm.users.map((u) => (
                <tr data-user={u.username}>
                  <td>
                    {u.username}
                    {u.disabled ? (
                      <>
                        {' '}
                        <span class="badge muted">{t('admin.disabled')}</span>
                      </>
                    ) : null}
                  </td>
                  <td>{u.displayName}</td>
                  <td>{t(`role.${u.role}` as MsgKey)}</td>
                  <td>{u.scope.join(', ')}</td>
                  <td>
                    <div class="actions">
                      {u.id === ctx.user?.id ? null : (
                        <>
                          <form
                            method="post"
                            action={ui(`/admin/users/${encodeURIComponent(u.id)}/reset`)}
                            data-confirm={`${t('admin.resetPassword')}: ${u.username}?`}
                          >
                            <Csrf ctx={ctx} />
                            <button type="submit" class="secondary">
                              {t('admin.resetPassword')}
                            </button>
                          </form>
                          <details>
                            <summary>{t('admin.edit')}</summary>
                            <form
                              method="post"
                              action={ui(`/admin/users/${encodeURIComponent(u.id)}/edit`)}
                              class="stack"
                            >
                              <Csrf ctx={ctx} />
                              <select name="role" aria-label={t('admin.role')}>
                                {USER_ROLES.map((r) => (
                                  <option value={r} selected={u.role === r}>
                                    {t(`role.${r}` as MsgKey)}
                                  </option>
                                ))}
                              </select>
                              <input name="scope" value={u.scope.join(', ')} aria-label={t('admin.scope')} />
                              <button type="submit" class="secondary">
                                {t('common.save')}
                              </button>
                            </form>
                          </details>
                          <form
                            method="post"
                            action={ui(
                              `/admin/users/${encodeURIComponent(u.id)}/${u.disabled ? 'enable' : 'disable'}`,
                            )}
                          >
                            <Csrf ctx={ctx} />
                            <button type="submit" class={u.disabled ? 'secondary' : 'danger'}>
                              {t(u.disabled ? 'admin.enable' : 'admin.disable')}
                            </button>
                          </form>
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h3>{t('admin.newUser')}</h3>
        {uf?.created ? (
          <p class="flash ok" role="status">
            {uf.created.username}: <code class="secret">{uf.created.password}</code>
          </p>
        ) : null}
        <FormErrorSummary ctx={ctx} errors={ue} />
        <form method="post" action={ui('/admin/users')} class="stack" novalidate>
          <Csrf ctx={ctx} />
          <Field ctx={ctx} name="username" label={t('login.username')} errors={ue}>
            <input {...fieldAttrs(ue, 'username')} value={v.username ?? ''} autocomplete="off" />
          </Field>
          <Field ctx={ctx} name="displayName" label={t('admin.displayName')} errors={ue}>
            <input {...fieldAttrs(ue, 'displayName')} value={v.displayName ?? ''} />
          </Field>
          <Field ctx={ctx} name="role" label={t('admin.role')} errors={ue}>
            <select {...fieldAttrs(ue, 'role')}>
              {USER_ROLES.map((r) => (
                <option value={r} selected={v.role === r}>
                  {t(`role.${r}` as MsgKey)}
                </option>
              ))}
            </select>
          </Field>
          <Field ctx={ctx} name="scope" label={t('admin.scope')} errors={ue} hint={t('admin.scopeHint')}>
            <textarea {...fieldAttrs(ue, 'scope')}>{v.scope ?? ''}</textarea>
          </Field>
          <div class="actions">
            <button type="submit">{t('admin.newUser')}</button>
          </div>
        </form>
      </Section>
      <Section title={t('admin.units')} id="units">
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('common.unit')}</th>
                <th>{t('common.name')}</th>
                <th>{t('admin.level')}</th>
              </tr>
            </thead>
            <tbody>
              {vm.units.map((u) => (
                <tr>
                  <td>{u.path}</td>
                  <td>
                    {u.name} {u.demo ? <small class="muted">(demo)</small> : null}
                  </td>
                  <td>{levelWords(ctx, u.level)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h3>{t('admin.importUnits')}</h3>
        {vm.unitForm?.imported !== undefined ? (
          <p class="flash ok">{t('admin.imported', { n: vm.unitForm.imported })}</p>
        ) : null}
        <form method="post" action={ui('/admin/units')} class="stack" novalidate>
          <Csrf ctx={ctx} />
          <Field ctx={ctx} name="csv" label="CSV" errors={vm.unitForm?.errors} hint={t('admin.importHint')}>
            <textarea {...fieldAttrs(vm.unitForm?.errors, 'csv')} rows={6}>
              {vm.unitForm?.csv ?? 'code,name,level,parent\n'}
            </textarea>
          </Field>
          <div class="actions">
            <button type="submit">{t('admin.importUnits')}</button>
          </div>
        </form>
      </Section>
      <BoundariesSection ctx={ctx} form={vm.boundaries} />
    </Layout>
  );
}

async function loadAdmin(
  s: UiServer,
  c: UiContext,
  boundaries: BoundariesFile,
): Promise<Pick<AdminVm, 'users' | 'units' | 'boundaries'>> {
  const users = await callApi<PublicUser[]>(s.api, c, 'GET', '/users');
  const units = await callApi<UnitRecord[]>(s.api, c, 'GET', '/units');
  return {
    users: users.ok ? users.data : [],
    units: units.ok ? units.data : [],
    boundaries: { current: await boundaries.status() },
  };
}

export function registerAdminPages(app: Hono<AppEnv>, s: UiServer): void {
  const boundaries = new BoundariesFile(s.deps.config.dataDir, s.deps.logger.child({ module: 'boundaries' }));
  const load = (c: UiContext) => loadAdmin(s, c, boundaries);
  app.get('/ui/admin', async (c) => {
    const g = await guard(c, s, 'user.manage');
    if ('response' in g) return g.response;
    return c.html(<AdminPage ctx={g.ctx} vm={await load(c)} />);
  });

  app.post('/ui/admin/users', async (c) => {
    const g = await guard(c, s, 'user.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = {
      username: str(f, 'username'),
      displayName: str(f, 'displayName'),
      role: str(f, 'role'),
      scope: str(f, 'scope'),
    };
    const scope = values.scope.split(/[\s,;]+/).filter(Boolean);
    const errors: FieldErrors = {};
    if (!values.username) errors.username = { key: 'err.required' };
    if (!values.displayName) errors.displayName = { key: 'err.required' };
    if (!(USER_ROLES as readonly string[]).includes(values.role)) errors.role = { key: 'err.role' };
    if (scope.length === 0) errors.scope = { key: 'err.required' };
    else if (scope.some((u) => u !== '*' && !UnitPathSchema.safeParse(u).success))
      errors.scope = { key: 'err.unit' };
    if (Object.keys(errors).length === 0) {
      const r = await callApi<{ user: PublicUser; oneTimePassword: string }>(s.api, c, 'POST', '/users', {
        username: values.username,
        displayName: values.displayName,
        role: values.role,
        scope,
      });
      if (r.ok) {
        const vm = await load(c);
        return c.html(
          <AdminPage
            ctx={g.ctx}
            vm={{
              ...vm,
              userForm: {
                values: {},
                created: { username: r.data.user.username, password: r.data.oneTimePassword },
              },
            }}
          />,
          201,
        );
      }
      if (r.code === 'USER_EXISTS') errors.username = r.message;
      else if (r.code === 'FORBIDDEN_SCOPE') errors.scope = { key: 'err.unitScope' };
      else Object.assign(errors, apiFieldErrors(r));
    }
    const vm = await load(c);
    return c.html(<AdminPage ctx={g.ctx} vm={{ ...vm, userForm: { values, errors } }} />, 400);
  });

  app.post('/ui/admin/users/:id/edit', async (c) => {
    const g = await guard(c, s, 'user.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const role = str(f, 'role');
    const scope = str(f, 'scope')
      .split(/[\s,;]+/)
      .filter(Boolean);
    const vm = await load(c);
    const bad = (text: string) =>
      c.html(<AdminPage ctx={{ ...g.ctx, flash: { kind: 'error', text } }} vm={vm} />, 400);
    if (!(USER_ROLES as readonly string[]).includes(role)) return bad(g.ctx.t('err.role'));
    if (scope.length === 0 || scope.some((u) => u !== '*' && !UnitPathSchema.safeParse(u).success))
      return bad(`${g.ctx.t('admin.scope')}: ${g.ctx.t('err.unit')}`);
    const r = await callApi(s.api, c, 'PATCH', `/users/${encodeURIComponent(c.req.param('id'))}`, {
      role,
      scope,
    });
    if (!r.ok) return bad(r.message);
    return done(c, ui('/admin'), 'common.savedOk');
  });

  app.post('/ui/admin/users/:id/:action{reset|disable|enable}', async (c) => {
    const g = await guard(c, s, 'user.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const id = encodeURIComponent(c.req.param('id'));
    const action = c.req.param('action');
    const vm = await load(c);
    if (action === 'reset') {
      const r = await callApi<{ oneTimePassword: string }>(
        s.api,
        c,
        'POST',
        `/users/${id}/reset-password`,
        {},
      );
      const u = vm.users.find((x) => x.id === c.req.param('id'));
      if (r.ok && u)
        return c.html(
          <AdminPage
            ctx={g.ctx}
            vm={{
              ...vm,
              userForm: { values: {}, created: { username: u.username, password: r.data.oneTimePassword } },
            }}
          />,
        );
      return c.html(
        <AdminPage
          ctx={{ ...g.ctx, flash: { kind: 'error', text: r.ok ? g.ctx.t('err.notFound') : r.message } }}
          vm={vm}
        />,
        400,
      );
    }
    const r = await callApi(s.api, c, 'PATCH', `/users/${id}`, { disabled: action === 'disable' });
    if (!r.ok)
      return c.html(<AdminPage ctx={{ ...g.ctx, flash: { kind: 'error', text: r.message } }} vm={vm} />, 400);
    return done(c, ui('/admin'), 'common.savedOk');
  });

  app.post('/ui/admin/units', async (c) => {
    const g = await guard(c, s, 'unit.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const csv = typeof f.csv === 'string' ? f.csv : '';
    const errors: FieldErrors = {};
    let imported: number | undefined;
    if (!csv.trim() || csv.trim().split(/\r?\n/).length < 2) errors.csv = { key: 'err.required' };
    else {
      const r = await callApi<{ imported: number }>(s.api, c, 'POST', '/units/import', {
        format: 'csv',
        data: csv,
      });
      if (r.ok) imported = r.data.imported;
      else {
        const lines = (r.details.errors as { line: number; message: string }[] | undefined) ?? [];
        errors.csv = lines.length
          ? lines
              .slice(0, 10)
              .map(
                (e) =>
                  `${e.line > 0 ? `${g.ctx.lang === 'vi' ? 'Dòng' : 'Line'} ${e.line}: ` : ''}${e.message}`,
              )
              .join(' · ')
          : `${r.message}`;
      }
    }
    const vm = await load(c);
    return c.html(
      <AdminPage
        ctx={g.ctx}
        vm={{ ...vm, unitForm: { csv: imported !== undefined ? '' : csv, errors, imported } }}
      />,
      imported !== undefined ? 200 : 400,
    );
  });

  // The province's boundaries: checked here for a readable message, then stored by the API (which
  // checks again, audits and writes atomically). A file past the cap is refused before it is read.
  app.post('/ui/admin/boundaries', async (c) => {
    const g = await guard(c, s, 'unit.manage');
    if ('response' in g) return g.response;
    const max = Math.round(MAX_BOUNDARIES_BYTES / 1048576);
    const page = async (form: Omit<BoundariesForm, 'current'>, status: 200 | 400 | 413 | 422) => {
      const vm = await load(c);
      return c.html(
        <AdminPage ctx={g.ctx} vm={{ ...vm, boundaries: { ...vm.boundaries, ...form } }} />,
        status,
      );
    };
    if (Number(c.req.header('content-length') ?? '0') > BOUNDARIES_FORM_LIMIT)
      return page({ errors: { geojson: { key: 'bnd.err.tooLarge', params: { max } } } }, 413);
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const file = f.geojson;
    if (!(file instanceof File) || file.size === 0)
      return page({ errors: { geojson: { key: 'bnd.err.missing' } } }, 400);
    if (file.size > MAX_BOUNDARIES_BYTES)
      return page({ errors: { geojson: { key: 'bnd.err.tooLarge', params: { max } } } }, 413);
    const text = await file.text();
    let body: unknown;
    try {
      body = parseBoundaries(text);
    } catch (err) {
      if (!isLoaError(err)) throw err;
      return page({ errors: { geojson: `${err.message} (${err.code})` } }, 422);
    }
    const r = await callApi<{ features: number; units: string[] }>(s.api, c, 'PUT', '/boundaries', body);
    if (!r.ok) return page({ errors: { geojson: `${r.message} (${r.code})` } }, r.status === 413 ? 413 : 422);
    return page({ stored: { features: r.data.features, units: r.data.units.length } }, 200);
  });
}
