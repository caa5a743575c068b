/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { UserRole } from '../../domain/model.js';
import { can, type Permission } from '../../domain/rbac.js';
import { type UiCtx, ui } from './context.js';
import type { MsgKey } from './i18n/index.js';

interface NavItem {
  href: string;
  key: MsgKey;
  roles?: readonly UserRole[];
  /** Shown only to roles that hold it: a menu never links to a page that refuses its reader. */
  perm?: Permission;
}

const NAV: readonly NavItem[] = [
  { href: ui('/'), key: 'nav.overview' },
  { href: ui('/fleet'), key: 'nav.fleet' },
  { href: ui('/enrolments'), key: 'nav.enrolments', roles: ['administrator', 'operator', 'technician'] },
  { href: ui('/content'), key: 'nav.content', roles: ['administrator', 'editor', 'approver'] },
  { href: ui('/programmes'), key: 'nav.programmes', roles: ['administrator', 'editor', 'approver'] },
  { href: ui('/timeline'), key: 'nav.timeline' },
  { href: ui('/approvals'), key: 'nav.approvals', perm: 'bundle.approve' },
  { href: ui('/emergency'), key: 'nav.emergency', perm: 'emergency.send' },
  { href: ui('/feedback'), key: 'nav.feedback', perm: 'feedback.manage' },
  { href: ui('/reports'), key: 'nav.reports' },
  { href: ui('/staff'), key: 'nav.staff' },
  { href: ui('/documents'), key: 'nav.documents' },
  { href: ui('/releases'), key: 'nav.releases', roles: ['administrator', 'operator', 'technician'] },
  { href: ui('/admin'), key: 'nav.admin', perm: 'user.manage' },
];

export function navFor(role: UserRole | undefined): NavItem[] {
  return NAV.filter(
    (n) =>
      (!n.roles || (role !== undefined && n.roles.includes(role))) &&
      (!n.perm || (role !== undefined && can(role, n.perm))),
  );
}

function isCurrent(path: string, href: string): boolean {
  if (href === ui('/')) return path === ui('/') || path === ui('');
  return path === href || path.startsWith(`${href}/`);
}

export function Layout(props: {
  ctx: UiCtx;
  title: string;
  children?: Child;
  /** Extra stylesheets/scripts under /ui/vendor or /ui/assets. */
  css?: string[];
  scripts?: string[];
  /** Classic (UMD) vendor scripts, loaded with defer before the modules run. */
  vendorScripts?: string[];
  /** SSE stream the page listens to (data-live on <body>). */
  live?: string;
  bodyClass?: string;
}) {
  const { ctx } = props;
  const t = ctx.t;
  const other = ctx.lang === 'vi' ? 'en' : 'vi';
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{`${props.title} · ${t('app.name')}`}</title>
        <link rel="icon" href={ui('/assets/favicon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={ui('/assets/app.css')} />
        {(props.css ?? []).map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        {(props.vendorScripts ?? []).map((src) => (
          <script defer src={src} />
        ))}
        <script type="module" src={ui('/assets/app.js')} />
        {(props.scripts ?? []).map((src) => (
          <script type="module" src={src} />
        ))}
      </head>
      <body class={props.bodyClass} data-live={props.live} data-lang={ctx.lang} data-csrf={ctx.csrf}>
        <a class="skip" href="#main">
          {t('app.skip')}
        </a>
        <header class="top">
          <a class="brand" href={ui('/')}>
            <span class="logo" aria-hidden="true">
              ◉
            </span>
            <span>
              <strong>{t('app.name')}</strong>
              <small>{t('app.tagline')}</small>
            </span>
          </a>
          <div class="who">
            <a class="lang" href={ui(`/lang/${other}?back=${encodeURIComponent(ctx.path)}`)} hreflang={other}>
              {t('nav.lang')}
            </a>
            {ctx.user ? (
              <form method="post" action={ui('/logout')} class="inline">
                <input type="hidden" name="_csrf" value={ctx.csrf} />
                <span class="user">{ctx.user.displayName || ctx.user.username}</span>
                <button type="submit" class="link">
                  {t('nav.logout')}
                </button>
              </form>
            ) : null}
          </div>
        </header>
        {ctx.user ? (
          <nav class="main-nav" aria-label={t('nav.menu')}>
            <ul>
              {navFor(ctx.user.role).map((n) => (
                <li>
                  <a href={n.href} aria-current={isCurrent(ctx.path, n.href) ? 'page' : undefined}>
                    {t(n.key)}
                    {n.key === 'nav.approvals' && ctx.waiting ? (
                      <span class="nav-badge" title={t('appr.badge', { n: ctx.waiting })}>
                        {ctx.waiting}
                        <span class="sr-only"> {t('appr.badge', { n: ctx.waiting })}</span>
                      </span>
                    ) : null}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="main">
          {ctx.flash ? (
            <p class={`flash ${ctx.flash.kind}`} role={ctx.flash.kind === 'error' ? 'alert' : 'status'}>
              {ctx.flash.text}
            </p>
          ) : null}
          <h1>{props.title}</h1>
          {props.children}
        </main>
        {props.live ? (
          <p class="live-state" data-live-state hidden>
            <span data-ok>{t('common.live')}</span>
            <span data-lost hidden>
              {t('common.liveLost')}
            </span>
          </p>
        ) : null}
      </body>
    </html>
  );
}
