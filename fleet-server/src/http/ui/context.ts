import type { UserRole } from '../../domain/model.js';
import type { Lang, MsgKey, T } from './i18n/index.js';

/** The signed-in operator as pages see them. */
export interface UiUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  scope: string[];
}

/** Everything a page needs besides its own view model. */
export interface UiCtx {
  lang: Lang;
  t: T;
  user: UiUser | undefined;
  /** CSRF token of the session, put into every form. */
  csrf: string;
  /** Current path, to highlight the navigation. */
  path: string;
  /** Server time in ms, for relative ages (never read inside view-model functions). */
  now: number;
  /** Programmes waiting for this user's approval (a badge in the menu). */
  waiting?: number;
  /** One-shot message shown at the top (from a redirect's ?ok= key). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

/** Field errors of a form: field name → message key (already translated text is allowed too). */
export type FieldErrors = Record<string, { key: MsgKey; params?: Record<string, string | number> } | string>;

/** Where the dashboard lives. */
export const UI_BASE = '/ui';
export const ui = (p = ''): string => `${UI_BASE}${p}`;
