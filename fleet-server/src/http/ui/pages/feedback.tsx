/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Citizens' feedback in the dashboard: the queue of the units in the operator's scope (filters by
 * unit, status, topic; counts; CSV export), and one item's page: assign with a due date, answer
 * (published on the public page and/or sent to the contact), make a bulletin draft from the answer,
 * close. Everything a citizen typed is shown through JSX escaping; the CSV neutralises formulas.
 */
import { isLoaError, LoaError } from '@loa/protocol';
import type { Hono } from 'hono';
import { feedbackCsv, isOverdue } from '../../../domain/citizens/feedback.js';
import {
  FEEDBACK_STATUSES,
  FEEDBACK_TOPICS,
  type FeedbackRecord,
  type FeedbackStatus,
  type UserRecord,
} from '../../../domain/model.js';
import type { FeedbackService } from '../../../services/citizens/feedback-service.js';
import type { AppEnv, AuthUser } from '../../auth.js';
import { Badge, Csrf, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import type { MsgKey } from '../i18n/index.js';
import { Layout } from '../layout.js';
import { checkFormCsrf, done, guard, readForm, str, type UiContext, type UiServer } from '../shared.js';
import { formatDateTime } from '../time.js';

const st = (s: string) => `fb.st.${s}` as MsgKey;
const tp = (s: string) => `fb.tp.${s}` as MsgKey;
const tone = (f: FeedbackRecord, now: number) =>
  isOverdue(f, now) ? 'bad' : f.status === 'new' ? 'warn' : f.status === 'closed' ? 'muted' : 'ok';

interface Filter {
  unit?: string;
  status?: FeedbackStatus;
  topic?: string;
}

function parseFilter(q: Record<string, string>): Filter {
  const f: Filter = {};
  if (q.unit && /^[0-9/]{2,40}$/.test(q.unit)) f.unit = q.unit;
  if (q.status && (FEEDBACK_STATUSES as readonly string[]).includes(q.status))
    f.status = q.status as FeedbackStatus;
  if (q.topic && (FEEDBACK_TOPICS as readonly string[]).includes(q.topic)) f.topic = q.topic;
  return f;
}

function QueuePage(props: {
  ctx: UiCtx;
  list: FeedbackRecord[];
  filter: Filter;
  counts: Awaited<ReturnType<FeedbackService['counts']>>;
  units: Map<string, string>;
}) {
  const { ctx, filter, counts } = props;
  const t = ctx.t;
  const qs = new URLSearchParams(Object.entries(filter) as [string, string][]).toString();
  return (
    <Layout ctx={ctx} title={t('fb.title')}>
      <form method="get" action={ui('/feedback')} class="filters">
        <div class="field">
          <label for="f-unit">{t('fb.queue')}</label>
          <select id="f-unit" name="unit">
            <option value="">{t('fb.all')}</option>
            {[...props.units].map(([path, name]) => (
              <option value={path} selected={filter.unit === path}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-status">{t('fb.status')}</label>
          <select id="f-status" name="status">
            <option value="">{t('fb.all')}</option>
            {FEEDBACK_STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {t(st(s))}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-topic">{t('fb.topic')}</label>
          <select id="f-topic" name="topic">
            <option value="">{t('fb.all')}</option>
            {FEEDBACK_TOPICS.map((s) => (
              <option value={s} selected={filter.topic === s}>
                {t(tp(s))}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t('common.filter')}</button>
        <a
          class="button secondary"
          href={`${ui('/feedback.csv')}${qs ? `?${qs}` : ''}`}
          download="phan-anh.csv"
        >
          {t('fb.csv')}
        </a>
      </form>
      <Section title={t('fb.stats')} id="fb-stats">
        <p>
          {t('fb.total')}: <strong>{counts.total}</strong> ·{' '}
          {FEEDBACK_STATUSES.map((s) => `${t(st(s))}: ${counts.byStatus[s] ?? 0}`).join(' · ')} ·{' '}
          {t('fb.overdue')}: {counts.overdue}
        </p>
        <p>{FEEDBACK_TOPICS.map((s) => `${t(tp(s))}: ${counts.byTopic[s] ?? 0}`).join(' · ')}</p>
        <p>
          {t('fb.answerTime', {
            median: counts.answerHours.median ?? '—',
            p90: counts.answerHours.p90 ?? '—',
          })}
        </p>
      </Section>
      {props.list.length === 0 ? (
        <Empty>{t('fb.none')}</Empty>
      ) : (
        <div class="table-wrap">
          <table id="feedback">
            <thead>
              <tr>
                <th>{t('fb.created')}</th>
                <th>{t('common.unit')}</th>
                <th>{t('fb.topic')}</th>
                <th>{t('fb.text')}</th>
                <th>{t('fb.status')}</th>
                <th>{t('fb.due')}</th>
              </tr>
            </thead>
            <tbody>
              {props.list.map((f) => (
                <tr data-id={f.id}>
                  <td>
                    <a href={ui(`/feedback/${f.id}`)}>{formatDateTime(f.createdAt)}</a>
                  </td>
                  <td>{props.units.get(f.unit) ?? f.unit}</td>
                  <td>{t(tp(f.topic))}</td>
                  <td class="fb-text">{f.text.length > 140 ? `${f.text.slice(0, 140)}…` : f.text}</td>
                  <td>
                    <Badge tone={tone(f, ctx.now)}>
                      {isOverdue(f, ctx.now) ? t('fb.overdue') : t(st(f.status))}
                    </Badge>
                  </td>
                  <td>{formatDateTime(f.dueAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

function DetailPage(props: {
  ctx: UiCtx;
  f: FeedbackRecord;
  unitName: string;
  staff: UserRecord[];
  canCompose: boolean;
}) {
  const { ctx, f } = props;
  const t = ctx.t;
  const open = f.status !== 'closed';
  const base = ui(`/feedback/${f.id}`);
  return (
    <Layout ctx={ctx} title={t('fb.detail', { id: f.id })}>
      <dl class="facts" id="fb-facts">
        <dt>{t('common.unit')}</dt>
        <dd>
          {props.unitName} · <a href={`/p/${f.unit}`}>{t('fb.public')}</a>
        </dd>
        <dt>{t('fb.topic')}</dt>
        <dd>{t(tp(f.topic))}</dd>
        <dt>{t('fb.status')}</dt>
        <dd>
          <Badge tone={tone(f, ctx.now)}>{isOverdue(f, ctx.now) ? t('fb.overdue') : t(st(f.status))}</Badge>
        </dd>
        <dt>{t('fb.created')}</dt>
        <dd>{formatDateTime(f.createdAt)}</dd>
        <dt>{t('fb.due')}</dt>
        <dd>{formatDateTime(f.dueAt)}</dd>
        {f.contact ? (
          <>
            <dt>{t('fb.contact')}</dt>
            <dd>{f.contact}</dd>
          </>
        ) : null}
        {f.assignedTo ? (
          <>
            <dt>{t('fb.assignee')}</dt>
            <dd>{props.staff.find((u) => u.id === f.assignedTo)?.displayName ?? f.assignedTo}</dd>
          </>
        ) : null}
      </dl>
      <Section title={t('fb.text')}>
        <p class="fb-text" id="fb-text" style="white-space:pre-line">
          {f.text}
        </p>
        {f.photo ? (
          <p>
            <img
              src={ui(`/feedback/${f.id}/photo`)}
              alt={t('fb.photo')}
              style="max-width:100%;max-height:24rem"
            />
          </p>
        ) : null}
      </Section>
      {f.answer ? (
        <Section title={t('fb.answer')}>
          <p id="fb-answer" style="white-space:pre-line">
            {f.answer}
          </p>
          {f.delivery ? <p>{t(f.delivery === 'sent' ? 'fb.delivery.sent' : 'fb.delivery.pending')}</p> : null}
          {f.bundleId ? (
            <p>
              <a href={ui(`/programmes/${f.bundleId}`)}>{t('fb.bulletinMade', { id: f.bundleId })}</a>
            </p>
          ) : props.canCompose ? (
            <form method="post" action={`${base}/bulletin`}>
              <Csrf ctx={ctx} />
              <button type="submit" class="secondary">
                {t('fb.bulletin')}
              </button>
            </form>
          ) : null}
        </Section>
      ) : null}
      {open ? (
        <>
          {f.status === 'answered' ? null : (
            <Section title={t('fb.assign')}>
              <form method="post" action={`${base}/assign`} class="filters">
                <Csrf ctx={ctx} />
                <div class="field">
                  <label for="f-to">{t('fb.assignee')}</label>
                  <select id="f-to" name="to">
                    {props.staff.map((u) => (
                      <option value={u.id} selected={u.id === (f.assignedTo ?? ctx.user?.id)}>
                        {u.displayName || u.username}
                      </option>
                    ))}
                  </select>
                </div>
                <div class="field">
                  <label for="f-due">{t('fb.due')}</label>
                  <input id="f-due" name="due" type="date" value={f.dueAt.slice(0, 10)} />
                </div>
                <button type="submit">{t('fb.assign')}</button>
              </form>
            </Section>
          )}
          <Section title={t('fb.answer')}>
            <form method="post" action={`${base}/answer`} id="fb-answer-form">
              <Csrf ctx={ctx} />
              <label for="f-answer" class="sr-only">
                {t('fb.answer')}
              </label>
              <textarea id="f-answer" name="answer" rows={5} maxlength={4000} required style="width:100%">
                {f.answer ?? ''}
              </textarea>
              <p>
                <label>
                  <input type="checkbox" name="publish" value="1" checked /> {t('fb.answerPublish')}
                </label>
              </p>
              {f.contact ? (
                <p>
                  <label>
                    <input type="checkbox" name="notify" value="1" checked /> {t('fb.answerNotify')}
                  </label>
                </p>
              ) : null}
              <button type="submit">{t('fb.send')}</button>
            </form>
          </Section>
          <form method="post" action={`${base}/close`}>
            <Csrf ctx={ctx} />
            <button type="submit" class="secondary">
              {t('fb.close')}
            </button>
          </form>
        </>
      ) : null}
    </Layout>
  );
}

export function registerFeedbackPages(app: Hono<AppEnv>, s: UiServer, feedback: FeedbackService): void {
  const unitNames = async (user: AuthUser) => {
    const m = new Map<string, string>();
    for (const u of await s.deps.store.units.list())
      if (user.scope.some((sc) => sc === '*' || u.path === sc || u.path.startsWith(`${sc}/`)))
        m.set(u.path, u.name);
    return m;
  };

  app.get(ui('/feedback'), async (c) => {
    const g = await guard(c, s, 'feedback.manage');
    if ('response' in g) return g.response;
    const filter = parseFilter(c.req.query());
    const list = await feedback.list(g.user, filter);
    const counts = await feedback.counts(
      filter.unit
        ? [filter.unit].filter((u) =>
            g.user.scope.some((sc) => sc === '*' || u === sc || u.startsWith(`${sc}/`)),
          )
        : g.user.scope.includes('*')
          ? ['']
          : g.user.scope,
    );
    return c.html(
      <QueuePage
        ctx={g.ctx}
        list={list.slice(0, 500)}
        filter={filter}
        counts={counts}
        units={await unitNames(g.user)}
      />,
    );
  });

  app.get(ui('/feedback.csv'), async (c) => {
    const g = await guard(c, s, 'feedback.manage');
    if ('response' in g) return g.response;
    const list = await feedback.list(g.user, parseFilter(c.req.query()));
    return c.body(feedbackCsv(list), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="phan-anh.csv"',
      'cache-control': 'no-store',
    });
  });

  const detail = async (c: UiContext) => {
    const g = await guard(c, s, 'feedback.manage');
    if ('response' in g) return { response: g.response };
    const f = await feedback.get(g.user, c.req.param('id') ?? '');
    return { g, f };
  };

  app.get(ui('/feedback/:id'), async (c) => {
    const d = await detail(c).catch((e: unknown) => {
      if (isLoaError(e) && e.code === 'FEEDBACK_NOT_FOUND') return undefined;
      throw e;
    });
    if (!d) return c.notFound();
    if ('response' in d) return d.response as Response;
    const { g, f } = d;
    const staff = (
      await s.deps.store.users.list(
        (u) =>
          !u.disabled && u.scope.some((sc) => sc === '*' || f.unit === sc || f.unit.startsWith(`${sc}/`)),
      )
    ).sort((a, b) => a.username.localeCompare(b.username));
    const unit = await s.deps.store.units.get(f.unit);
    return c.html(
      <DetailPage
        ctx={g.ctx}
        f={f}
        unitName={unit?.name ?? f.unit}
        staff={staff}
        canCompose={g.user.role === 'administrator' || g.user.role === 'editor'}
      />,
    );
  });

  app.get(ui('/feedback/:id/photo'), async (c) => {
    const d = await detail(c);
    if ('response' in d) return d.response as Response;
    const photo = d.f.photo;
    const blobs = s.content?.blobs;
    if (!photo || !blobs) return c.notFound();
    return new Response(blobs.readWeb(photo.sha256), {
      headers: {
        'content-type': 'image/jpeg',
        'cache-control': 'private, max-age=3600',
        'content-security-policy': "default-src 'none'",
      },
    });
  });

  const action = (
    name: string,
    run: (
      user: AuthUser & { ip?: string },
      id: string,
      form: Awaited<ReturnType<typeof readForm>>,
    ) => Promise<{ ok: MsgKey; id?: string }>,
  ) =>
    app.post(ui(`/feedback/:id/${name}`), async (c) => {
      const g = await guard(c, s, 'feedback.manage');
      if ('response' in g) return g.response;
      const form = await readForm(c);
      checkFormCsrf(c, form);
      const id = c.req.param('id') ?? '';
      const r = await run({ ...g.user, ip: c.get('ip') }, id, form);
      return done(c, ui(`/feedback/${id}`), r.ok, r.id);
    });

  action('assign', async (user, id, form) => {
    const due = str(form, 'due');
    const dueAt = /^\d{4}-\d{2}-\d{2}$/.test(due)
      ? new Date(`${due}T17:00:00+07:00`).toISOString()
      : undefined;
    await feedback.assign(user, id, str(form, 'to'), dueAt);
    return { ok: 'fb.ok.assigned' };
  });
  action('answer', async (user, id, form) => {
    const text = str(form, 'answer');
    if (text.length < 2 || text.length > 4000)
      throw new LoaError('VALIDATION_FAILED', 'Câu trả lời cần từ 2 đến 4.000 ký tự');
    await feedback.answer(user, id, {
      text,
      publish: str(form, 'publish') === '1',
      notify: str(form, 'notify') === '1',
    });
    return { ok: 'fb.ok.answered' };
  });
  action('close', async (user, id) => {
    await feedback.close(user, id);
    return { ok: 'fb.ok.closed' };
  });
  action('bulletin', async (user, id) => {
    const r = await feedback.toBulletin(user, id);
    return { ok: 'fb.ok.bulletin', id: r.bundleId };
  });
}
