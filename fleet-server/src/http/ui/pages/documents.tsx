/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The document library in the dashboard: search (no diacritics needed) and filter by kind, the
 * documents of the reader's units and those above them with their download, and an upload form
 * for roles holding document.manage (a refused file says why, with the form kept).
 */
import { isLoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { DOCUMENT_KINDS, type DocumentRecord } from '../../../domain/documents.js';
import { can, inScope } from '../../../domain/rbac.js';
import type { DocumentLibrary } from '../../../services/document-library.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Csrf, Empty, FormErrorSummary, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { type FormState, Input, Select, UnitSelect } from '../form-inputs.js';
import { Layout } from '../layout.js';
import {
  checkFormCsrf,
  done,
  guard,
  readForm,
  sessionActor,
  str,
  type UiContext,
  type UiServer,
} from '../shared.js';
import { unitOptions } from '../unit-labels.js';

const actor = sessionActor;
const dayVi = (d: string) => d.split('-').reverse().join('/');
const size = (n: number) =>
  n >= 1048576
    ? `${(n / 1048576).toFixed(1).replace('.', ',')} MB`
    : `${Math.max(1, Math.round(n / 1024))} KB`;

function LibraryPage(props: {
  ctx: UiCtx;
  q: string;
  kind: string;
  docs: DocumentRecord[];
  units: [string, string][];
  /** Names of every unit (a document may come from a unit above the reader's). */
  names: Map<string, string>;
  manage: boolean;
  maxMb: number;
  /** The upload form as typed, after a refusal. */
  upload?: FormState | undefined;
}) {
  const { ctx, names } = props;
  const t = ctx.t;
  const kinds = Object.entries(DOCUMENT_KINDS);
  const up = props.upload ?? { values: {}, errors: {} };
  return (
    <Layout ctx={ctx} title={t('dl.title')}>
      <form method="get" action={ui('/documents')} class="filters">
        <Input ctx={ctx} id="f-q" name="q" label={t('dl.search')} value={props.q} />
        <Select
          ctx={ctx}
          id="f-kind"
          name="kind"
          label={t('dl.kind')}
          options={kinds}
          value={props.kind}
          empty={t('common.all')}
        />
        <button type="submit">{t('common.filter')}</button>
      </form>
      <Section title={t('dl.title')} id="library">
        {props.docs.length === 0 ? (
          <Empty>{t('dl.none')}</Empty>
        ) : (
          <ul id="documents" class="doc-list">
            {props.docs.map((d) => (
              <li data-id={d.id}>
                <strong class="doc-title">{d.title}</strong>
                <span class="doc-meta">
                  {[d.number, d.issuer, dayVi(d.issuedOn)].filter(Boolean).join(' · ')}
                </span>
                <small class="doc-meta">
                  {DOCUMENT_KINDS[d.kind]} · {names.get(d.unit) ?? d.unit}
                  {d.description ? ` · ${d.description}` : ''}
                </small>
                <span>
                  <a href={`/api/v1/documents/${encodeURIComponent(d.id)}/file`} download={d.name}>
                    {t('dl.download')} {d.file.ext.toUpperCase()}
                  </a>{' '}
                  <small>({size(d.file.bytes)})</small>
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {props.manage ? (
        <Section title={t('dl.upload')} id="document-upload">
          <form method="post" action={ui('/documents')} enctype="multipart/form-data" class="stack">
            <Csrf ctx={ctx} />
            <p class="hint">{t('dl.uploadHint', { mb: props.maxMb })}</p>
            <FormErrorSummary ctx={ctx} errors={up.errors} />
            <UnitSelect ctx={ctx} id="d-unit" units={props.units} form={up} />
            <Input
              ctx={ctx}
              id="d-title"
              name="title"
              label={t('dl.docTitle')}
              form={up}
              required
              maxlength={300}
            />
            <Input ctx={ctx} id="d-number" name="number" label={t('dl.number')} form={up} maxlength={100} />
            <Input
              ctx={ctx}
              id="d-issuer"
              name="issuer"
              label={t('dl.issuer')}
              form={up}
              required
              maxlength={300}
            />
            <Input
              ctx={ctx}
              id="d-issued"
              name="issuedOn"
              type="date"
              label={t('dl.issuedOn')}
              form={up}
              required
            />
            <Select ctx={ctx} id="d-kind" name="kind" label={t('dl.kind')} options={kinds} form={up} />
            <Input
              ctx={ctx}
              id="d-desc"
              name="description"
              label={t('dl.description')}
              form={up}
              maxlength={2000}
            />
            <Input
              ctx={ctx}
              id="d-file"
              name="file"
              type="file"
              label={t('dl.file')}
              form={up}
              required
              accept=".pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp"
            />
            <button type="submit">{t('dl.uploadDo')}</button>
          </form>
        </Section>
      ) : null}
    </Layout>
  );
}

export function registerDocumentPages(app: Hono<AppEnv>, s: UiServer, library: DocumentLibrary): void {
  const page = async (
    c: UiContext,
    g: { user: AuthUser; ctx: UiCtx },
    status: 200 | 400 | 413 | 415 = 200,
    upload?: FormState,
  ) => {
    const q = c.req.query('q') ?? '';
    const kind = c.req.query('kind') ?? '';
    const all = await s.deps.store.units.list();
    const units = unitOptions(
      all.filter((u) => inScope(g.user, u.path)),
      all,
    );
    const docs = await library.list(actor(g.user, c.get('ip')), {
      ...(q ? { q } : {}),
      ...(kind in DOCUMENT_KINDS ? { kind } : {}),
    });
    return c.html(
      <LibraryPage
        ctx={g.ctx}
        q={q}
        kind={kind}
        docs={docs}
        units={units}
        names={new Map(all.map((u) => [u.path, u.name]))}
        manage={can(g.user.role, 'document.manage')}
        maxMb={Math.round(library.maxBytes / 1048576)}
        upload={upload}
      />,
      status,
    );
  };

  app.get(ui('/documents'), async (c) => {
    const g = await guard(c, s);
    if ('response' in g) return g.response;
    return page(c, g);
  });

  app.post(ui('/documents'), async (c) => {
    const g = await guard(c, s, 'document.manage');
    if ('response' in g) return g.response;
    const f = await readForm(c);
    checkFormCsrf(c, f);
    const file = f.file;
    const values = Object.fromEntries(
      ['unit', 'title', 'number', 'issuer', 'issuedOn', 'kind', 'description'].map((k) => [k, str(f, k)]),
    );
    try {
      const data = file instanceof File ? Buffer.from(await file.arrayBuffer()) : Buffer.alloc(0);
      const meta = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
      const rec = await library.upload(
        actor(g.user, c.get('ip')),
        { ...meta, name: file instanceof File ? file.name : '' },
        data,
      );
      return done(c, ui('/documents'), 'dl.uploaded', rec.title);
    } catch (e) {
      if (!isLoaError(e) || !e.code.startsWith('DOCUMENT_')) throw e;
      g.ctx.flash = { kind: 'error', text: e.message };
      return page(
        c,
        g,
        e.code === 'DOCUMENT_TOO_LARGE' ? 413 : e.code === 'DOCUMENT_TYPE_REFUSED' ? 415 : 400,
        { values, errors: {} },
      );
    }
  });
}
