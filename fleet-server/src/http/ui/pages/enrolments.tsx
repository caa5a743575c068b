/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** Pending enrolments (approve/reject) and enrolment tokens with a QR code for technicians. */
import { UnitPathSchema } from '@loa/protocol';
import type { Hono } from 'hono';
import type { DeviceRecord, EnrolmentTokenRecord } from '../../../domain/model.js';
import { can, inScope } from '../../../domain/rbac.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { apiFieldErrors, callApi } from '../api-client.js';
import { Badge, Csrf, Empty, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { scopedDevices, unitMap } from '../data.js';
import { Layout } from '../layout.js';
import { QrCode } from '../qr.js';
import { errorPage } from '../refusal.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';
import { unitOptions } from '../unit-labels.js';

type TokenView = Omit<EnrolmentTokenRecord, 'hash'> & { usable?: boolean };

interface EnrolVm {
  pending: DeviceRecord[];
  /** Unit names by path (units in the user's scope). */
  unitNames: ReadonlyMap<string, string>;
  /** The units in scope for the new code's picker, by name in the hierarchy's order. */
  unitChoices: [string, string][];
  tokens: TokenView[];
  canApprove: boolean;
  canReject: boolean;
  canTokens: boolean;
  form?: { values: Record<string, string>; errors?: FieldErrors };
  created?: { token: string; enrolUrl: string; unit: string; expiresAt: string };
}

/** What the technician's QR code carries: the enrolment endpoint and the one-time token. */
export function enrolQrText(enrolUrl: string, token: string): string {
  return JSON.stringify({ enrol: enrolUrl, token });
}

function EnrolmentsPage(props: { ctx: UiCtx; vm: EnrolVm }) {
  const { ctx, vm } = props;
  const t = ctx.t;
  const fe = vm.form?.errors;
  const v = vm.form?.values ?? {};
  return (
    <Layout ctx={ctx} title={t('enrol.title')}>
      <Section title={t('enrol.title')}>
        {vm.pending.length === 0 ? (
          <Empty>{t('enrol.none')}</Empty>
        ) : (
          <div class="table-wrap">
            <table id="pending">
              <thead>
                <tr>
                  <th>{t('fleet.device')}</th>
                  <th>{t('common.unit')}</th>
                  <th>{t('enrol.hardware')}</th>
                  <th>{t('enrol.requested')}</th>
                  <th>{t('common.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {vm.pending.map((d) => (
                  <tr>
                    <td>
                      {d.name || d.id}
                      <br />
                      <small class="muted">
                        {d.id} · {t('enrol.keyId')} {d.keyId.slice(0, 16)}…
                      </small>
                    </td>
                    <td title={d.unit}>{vm.unitNames.get(d.unit) ?? d.unit}</td>
                    <td>
                      <small>
                        {Object.entries(d.hardware)
                          .slice(0, 6)
                          .map(([k, val]) => `${k}: ${String(val)}`)
                          .join(' · ')}
                      </small>
                    </td>
                    <td>{formatDateTime(d.enrolledAt)}</td>
                    <td>
                      <div class="actions">
                        {vm.canApprove ? (
                          <form method="post" action={ui(`/enrolments/${encodeURIComponent(d.id)}/approve`)}>
                            <Csrf ctx={ctx} />
                            <button type="submit">{t('enrol.approve')}</button>
                          </form>
                        ) : null}
                        {vm.canReject ? (
                          <form
                            method="post"
                            action={ui(`/enrolments/${encodeURIComponent(d.id)}/reject`)}
                            data-confirm={t('enrol.reject')}
                          >
                            <Csrf ctx={ctx} />
                            <button type="submit" class="danger">
                              {t('enrol.reject')}
                            </button>
                          </form>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {vm.canTokens ? (
        <Section title={t('admin.tokens')} id="tokens">
          {vm.created ? (
            <div class="card" id="new-token">
              <p>{t('admin.tokenCreated')}</p>
              <div class="qr">
                <QrCode
                  text={enrolQrText(vm.created.enrolUrl, vm.created.token)}
                  label={t('admin.newToken')}
                />
              </div>
              <p>
                <code class="secret" data-token>
                  {vm.created.token}
                </code>
              </p>
              <p class="muted">
                {vm.unitNames.get(vm.created.unit) ?? vm.created.unit} · {t('admin.expires')}{' '}
                {formatDateTime(vm.created.expiresAt)}
              </p>
            </div>
          ) : null}
          {vm.tokens.length > 0 ? (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>{t('common.unit')}</th>
                    <th class="num">{t('admin.uses')}</th>
                    <th>{t('admin.expires')}</th>
                    <th>{t('common.state')}</th>
                    <th>
                      <span class="sr-only">{t('content.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {vm.tokens.map((k) => (
                    <tr>
                      <td title={k.unit}>
                        {vm.unitNames.get(k.unit) ?? k.unit}
                        {k.note ? <small class="muted"> · {k.note}</small> : null}
                      </td>
                      <td class="num">
                        {k.uses}/{k.maxUses}
                      </td>
                      <td>{formatDateTime(k.expiresAt)}</td>
                      <td>
                        <Badge tone={k.usable ? 'ok' : 'muted'}>
                          {k.usable ? t('state.active') : k.revokedAt ? t('state.revoked') : '—'}
                        </Badge>
                      </td>
                      <td>
                        {k.usable ? (
                          <form
                            method="post"
                            action={ui(`/enrolments/tokens/${encodeURIComponent(k.id)}/revoke`)}
                            data-confirm={t('enrol.revokeConfirm')}
                          >
                            <Csrf ctx={ctx} />
                            <button type="submit" class="secondary" data-token-revoke={k.id}>
                              {t('enrol.revoke')}
                            </button>
                          </form>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <h3>{t('admin.newToken')}</h3>
          <FormErrorSummary ctx={ctx} errors={fe} />
          <form method="post" action={ui('/enrolments/tokens')} class="stack" novalidate>
            <Csrf ctx={ctx} />
            <Field ctx={ctx} name="unit" label={t('common.unit')} errors={fe}>
              <select {...fieldAttrs(fe, 'unit')}>
                <option value="">—</option>
                {vm.unitChoices.map(([path, label]) => (
                  <option value={path} selected={v.unit === path}>
                    {label}
                  </option>
                ))}
              </select>
            </Field>
            <Field ctx={ctx} name="maxUses" label={t('admin.uses')} errors={fe}>
              <input
                {...fieldAttrs(fe, 'maxUses')}
                type="number"
                min="1"
                max="500"
                value={v.maxUses ?? '1'}
              />
            </Field>
            <Field ctx={ctx} name="ttlHours" label={t('admin.hours')} errors={fe}>
              <input
                {...fieldAttrs(fe, 'ttlHours')}
                type="number"
                min="1"
                max="720"
                value={v.ttlHours ?? '24'}
              />
            </Field>
            <div class="actions">
              <button type="submit">{t('admin.newToken')}</button>
            </div>
          </form>
        </Section>
      ) : null}
    </Layout>
  );
}

async function loadEnrol(s: UiServer, c: UiContext, user: AuthUser): Promise<EnrolVm> {
  const pending = (await scopedDevices(s, user)).filter(
    (d) => d.status === 'pending' && inScope(user, d.unit),
  );
  const canTokens = can(user.role, 'enrol.manage');
  const tokens = canTokens ? await callApi<TokenView[]>(s.api, c, 'GET', '/enrol-tokens') : undefined;
  const units = await unitMap(s, user);
  return {
    pending,
    unitNames: new Map([...units].map(([p, u]) => [p, u.name])),
    unitChoices: unitOptions([...units.values()], await s.deps.store.units.list()),
    tokens: tokens?.ok ? tokens.data.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 50) : [],
    canApprove: can(user.role, 'device.approve'),
    canReject: can(user.role, 'device.manage'),
    canTokens,
  };
}

function intIn(v: string, min: number, max: number): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

export function registerEnrolmentPages(app: Hono<AppEnv>, s: UiServer): void {
  app.get('/ui/enrolments', async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return c.html(<EnrolmentsPage ctx={g.ctx} vm={await loadEnrol(s, c, g.user)} />);
  });

  for (const action of ['approve', 'reject'] as const) {
    app.post(`/ui/enrolments/:id/${action}`, async (c) => {
      const g = await guard(c, s, action === 'approve' ? 'device.approve' : 'device.manage');
      if ('response' in g) return g.response;
      checkFormCsrf(c, await readForm(c));
      const id = encodeURIComponent(c.req.param('id'));
      const r =
        action === 'approve'
          ? await callApi(s.api, c, 'POST', `/devices/${id}/approve`, {})
          : await callApi(s.api, c, 'POST', `/devices/${id}/revoke`, { reason: 'enrolment rejected' });
      if (!r.ok)
        return errorPage(
          c,
          g.ctx,
          `${r.message} (${r.code})`,
          r.status === 403 ? 403 : r.status === 409 ? 409 : 400,
        );
      return done(c, ui('/enrolments'), 'common.savedOk');
    });
  }

  app.post('/ui/enrolments/tokens/:id/revoke', async (c) => {
    const g = await guard(c, s, 'enrol.manage');
    if ('response' in g) return g.response;
    checkFormCsrf(c, await readForm(c));
    const r = await callApi(s.api, c, 'DELETE', `/enrol-tokens/${encodeURIComponent(c.req.param('id'))}`);
    if (!r.ok) return errorPage(c, g.ctx, `${r.message} (${r.code})`, r.status === 403 ? 403 : 400);
    return done(c, ui('/enrolments'), 'enrol.revoked');
  });

  app.post('/ui/enrolments/tokens', async (c) => {
    const g = await guard(c, s, 'enrol.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const values = { unit: str(f, 'unit'), maxUses: str(f, 'maxUses'), ttlHours: str(f, 'ttlHours') };
    const errors: FieldErrors = {};
    if (!values.unit) errors.unit = { key: 'err.required' };
    else if (!UnitPathSchema.safeParse(values.unit).success) errors.unit = { key: 'err.unit' };
    else if (!inScope(g.user, values.unit)) errors.unit = { key: 'err.unitScope' };
    const maxUses = intIn(values.maxUses, 1, 500);
    if (maxUses === undefined) errors.maxUses = { key: 'err.number', params: { min: 1, max: 500 } };
    const ttlHours = intIn(values.ttlHours, 1, 720);
    if (ttlHours === undefined) errors.ttlHours = { key: 'err.number', params: { min: 1, max: 720 } };
    let created: EnrolVm['created'];
    if (Object.keys(errors).length === 0) {
      const r = await callApi<{ token: string; enrolUrl: string; record: TokenView }>(
        s.api,
        c,
        'POST',
        '/enrol-tokens',
        {
          unit: values.unit,
          maxUses,
          ttlHours,
        },
      );
      if (r.ok)
        created = {
          token: r.data.token,
          enrolUrl: r.data.enrolUrl,
          unit: r.data.record.unit,
          expiresAt: r.data.record.expiresAt,
        };
      else if (r.code === 'UNIT_NOT_FOUND') errors.unit = { key: 'err.unitUnknown' };
      else if (r.code === 'FORBIDDEN_SCOPE') errors.unit = { key: 'err.unitScope' };
      else Object.assign(errors, apiFieldErrors(r));
    }
    const vm = await loadEnrol(s, c, g.user);
    if (created) return c.html(<EnrolmentsPage ctx={g.ctx} vm={{ ...vm, created }} />, 201);
    return c.html(<EnrolmentsPage ctx={g.ctx} vm={{ ...vm, form: { values, errors } }} />, 400);
  });
}
