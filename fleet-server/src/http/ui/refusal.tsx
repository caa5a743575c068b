/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Refusals and errors as normal pages (layout, title, language, navigation): a page a role may not
 * use says who can use it; a missing item or an expired form says what to do next.
 */

import type { Context } from 'hono';
import { USER_ROLES } from '../../domain/model.js';
import { can, type Permission } from '../../domain/rbac.js';
import type { AppEnv } from '../auth.js';
import { type UiCtx, ui } from './context.js';
import type { MsgKey } from './i18n/index.js';
import { Layout } from './layout.js';

type UiContext = Context<AppEnv>;

export function MessagePage(props: { ctx: UiCtx; title: string; text: string; hint?: string }) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title={props.title}>
      <div class="message-box" role="alert">
        <p>{props.text}</p>
        {props.hint ? <p class="muted">{props.hint}</p> : null}
        <p>
          <a class="button secondary" href={ui('/')}>
            {ctx.t('msg.home')}
          </a>
        </p>
      </div>
    </Layout>
  );
}

/** Role names that hold a permission, in the operator's language. */
export function rolesWith(ctx: UiCtx, permission: Permission): string {
  return USER_ROLES.filter((r) => can(r, permission))
    .map((r) => ctx.t(`role.${r}` as MsgKey))
    .join(', ');
}

export function forbiddenPage(
  c: UiContext,
  ctx: UiCtx,
  permission?: Permission,
): Response | Promise<Response> {
  const who = permission ? ctx.t('msg.whoCan', { roles: rolesWith(ctx, permission) }) : undefined;
  return c.html(
    <MessagePage
      ctx={ctx}
      title={ctx.t('msg.forbiddenTitle')}
      text={ctx.t('err.forbidden')}
      {...(who ? { hint: who } : {})}
    />,
    403,
  );
}

export function notFoundPage(c: UiContext, ctx: UiCtx): Response | Promise<Response> {
  return c.html(
    <MessagePage ctx={ctx} title={ctx.t('msg.notFoundTitle')} text={ctx.t('err.notFound')} />,
    404,
  );
}

export function errorPage(
  c: UiContext,
  ctx: UiCtx,
  text: string,
  status: 400 | 403 | 409 | 500,
): Response | Promise<Response> {
  return c.html(<MessagePage ctx={ctx} title={ctx.t('msg.errorTitle')} text={text} />, status);
}
