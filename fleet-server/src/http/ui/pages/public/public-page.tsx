/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The citizens' pages of a unit: plain server-rendered HTML for old phones (a small deferred
 * script adds the live banner, push and the offline copy; native <audio> controls), styles inline.
 * Every text from a record goes through JSX escaping; a bulletin's text carries its own `lang`.
 */
import type { Child } from 'hono/jsx';
import type { PublicStation, PublicView } from '../../../../services/citizens/public-site.js';
import { type BulletinFilter, bulletinPage, mapPoints } from '../../view-models/public-page.js';
import { categoryLabel, localTime, type PT, type PublicLang } from './public-text.js';

export const PUBLIC_CSS = `*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f5f6f8}
header,main,footer{max-width:42rem;margin:0 auto;padding:.6rem .9rem}header{background:#0b4f8a;color:#fff;max-width:none}header a{color:#fff}
.hd{max-width:42rem;margin:0 auto;display:flex;justify-content:space-between;gap:.5rem;align-items:baseline}h1{font-size:1.25rem;margin:.1rem 0}
h2{font-size:1.08rem;margin:1.1rem 0 .4rem}small,.m{color:#57606a;font-size:.85rem}header small{color:#d8e6f3}
.card{background:#fff;border:1px solid #d8dee4;border-radius:.5rem;padding:.6rem .75rem;margin:.5rem 0}
.emg{background:#b3261e;color:#fff;border-color:#8c1d18}.emg h3{margin:.1rem 0}.emg small{color:#ffe3e0}
h3{font-size:1rem;margin:.1rem 0 .3rem}audio{width:100%;margin:.3rem 0}p{margin:.3rem 0;white-space:pre-line;overflow-wrap:anywhere}
.tag{display:inline-block;font-size:.75rem;padding:0 .35rem;border-radius:.3rem;background:#e7edf3;color:#1b1f24;margin-right:.25rem}
form.f{display:flex;flex-wrap:wrap;gap:.4rem;align-items:end}label{display:block;font-size:.9rem;margin:.4rem 0 .15rem}
select,input,textarea,button{font:inherit;max-width:100%}textarea,input[type=text],input[type=tel]{width:100%}
button,.btn{background:#0b4f8a;color:#fff;border:0;border-radius:.35rem;padding:.45rem .8rem;text-decoration:none;display:inline-block}
.btn2{background:#fff;color:#0b4f8a;border:1px solid #0b4f8a}ul.prog{list-style:none;padding:0;margin:0}ul.prog li{padding:.25rem 0;border-bottom:1px solid #eef1f4}
.t{font-variant-numeric:tabular-nums;font-weight:600;margin-right:.5rem}svg{width:100%;height:auto;background:#eaf1f7;border-radius:.4rem}
.onAir{fill:#1a7f37}.online{fill:#0b4f8a}.offline{fill:#8c959f}.lg span{margin-right:.7rem}.err{color:#b3261e;font-weight:600}
.ok{color:#1a7f37;font-weight:600}.stars label{display:inline;margin-right:.4rem}#off{background:#fff3cd;padding:.3rem .6rem}`;

function Shell(props: {
  lang: PublicLang;
  t: PT;
  title: string;
  unitPath: string;
  script: string;
  children?: Child;
  heading: string;
  sub?: string;
  langHref: string;
}) {
  const { t } = props;
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="theme-color" content="#0b4f8a" />
        <title>{props.title}</title>
        <link rel="manifest" href={`/p/${props.unitPath}/manifest.webmanifest`} />
        <style>{PUBLIC_CSS}</style>
        <script defer src={props.script} />
      </head>
      <body data-unit={props.unitPath} data-lang={props.lang}>
        <header>
          <div class="hd">
            <div>
              <small>{props.sub ?? t('site.title')}</small>
              <h1>{props.heading}</h1>
            </div>
            <a href={props.langHref} hreflang={props.lang === 'vi' ? 'en' : 'vi'}>
              {t('site.lang')}
            </a>
          </div>
        </header>
        <p id="off" hidden>
          {t('offline')}
        </p>
        <main>{props.children}</main>
        <footer>
          <small>{t('footer')}</small>
        </footer>
      </body>
    </html>
  );
}

export function EmergencyCards(props: { view: PublicView; t: PT }) {
  const { t } = props;
  const list = props.view.feed.emergencies;
  return (
    <section id="alerts" aria-live="assertive" aria-label={t('emg.heading')}>
      {list.map((e) => (
        <article class="card emg" data-emergency={e.bundleId}>
          <h3 lang={e.lang}>⚠ {e.title}</h3>
          {e.text ? <p lang={e.lang}>{e.text}</p> : null}
          {e.audio ? (
            <audio controls preload="none" src={`/p/a/${e.audio.sha256}.ogg`} aria-label={e.title}>
              <track kind="captions" />
            </audio>
          ) : null}
          <small>
            {t('emg.sent', { at: localTime(e.sentAt) })} · {t('emg.until', { at: localTime(e.expiresAt) })}
          </small>
        </article>
      ))}
    </section>
  );
}

function StationMap(props: { stations: PublicStation[]; t: PT }) {
  const { t } = props;
  const pts = mapPoints(props.stations);
  const label = (s: 'onAir' | 'online' | 'offline') =>
    s === 'onAir' ? t('map.onAir') : s === 'online' ? t('map.online') : t('map.offline');
  if (pts.length === 0) return <p class="m">{t('map.none')}</p>;
  return (
    <figure style="margin:0">
      <svg viewBox="0 0 320 200" role="img" aria-label={t('map.heading')}>
        {pts.map((p) => (
          <g>
            <title>{`${p.name}: ${label(p.state)}`}</title>
            <circle cx={p.x} cy={p.y} r={p.state === 'onAir' ? 9 : 7} class={p.state} />
          </g>
        ))}
      </svg>
      <figcaption class="lg m">
        <span>
          ● {t('map.onAir')}: {pts.filter((p) => p.state === 'onAir').length}
        </span>
        <span>
          {t('map.online')}: {pts.filter((p) => p.state === 'online').length}
        </span>
        <span>
          {t('map.offline')}: {pts.filter((p) => p.state === 'offline').length}
        </span>
      </figcaption>
      <ul class="m">
        {pts.map((p) => (
          <li>
            {p.name}: {label(p.state)}
          </li>
        ))}
      </ul>
    </figure>
  );
}

export function UnitPage(props: {
  view: PublicView;
  lang: PublicLang;
  t: PT;
  filter: BulletinFilter;
  now: number;
  script: string;
  notice?: string;
}) {
  const { view, t, lang, filter } = props;
  const base = `/p/${view.unit.path}`;
  const q = (extra: Record<string, string | number | undefined>) => {
    const all: Record<string, string | number | undefined> = {
      lang: lang === 'en' ? 'en' : undefined,
      bl: filter.lang,
      cat: filter.category,
      ...extra,
    };
    const s = Object.entries(all)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    return s ? `${base}?${s}` : base;
  };
  const { days, more } = bulletinPage(view.feed.bulletins, filter, props.now);
  return (
    <Shell
      lang={lang}
      t={t}
      title={`${view.unit.name} · ${t('site.title')}`}
      unitPath={view.unit.path}
      script={props.script}
      heading={view.unit.name}
      sub={[...view.parents, t('site.title')].join(' · ')}
      langHref={q({ lang: lang === 'en' ? undefined : 'en', page: undefined })}
    >
      <EmergencyCards view={view} t={t} />
      {props.notice ? (
        <p class="ok" role="status">
          {props.notice}
        </p>
      ) : null}
      <p>
        <button
          type="button"
          id="push"
          class="btn btn2"
          hidden
          data-key=""
          data-done={t('push.done')}
          data-fail={t('push.fail')}
        >
          {t('push.on')}
        </button>
      </p>
      <h2>{t('prog.heading')}</h2>
      {view.feed.programme.length === 0 ? (
        <p class="m">{t('prog.none')}</p>
      ) : (
        <ul class="prog card">
          {view.feed.programme.map((s) => (
            <li>
              <span class="t">{s.time}</span>
              {s.titles.join(' · ')}
            </li>
          ))}
        </ul>
      )}
      <h2 id="news">{t('news.heading')}</h2>
      {view.feed.langs.length > 1 || view.feed.categories.length > 1 ? (
        <form class="f" method="get" action={base}>
          {lang === 'en' ? <input type="hidden" name="lang" value="en" /> : null}
          <div>
            <label for="bl">{t('filter.lang')}</label>
            <select id="bl" name="bl">
              <option value="">{t('filter.all')}</option>
              {view.feed.langs.map((l) => (
                <option value={l} selected={filter.lang === l}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="cat">{t('filter.cat')}</label>
            <select id="cat" name="cat">
              <option value="">{t('filter.all')}</option>
              {view.feed.categories.map((c) => (
                <option value={c} selected={filter.category === c}>
                  {categoryLabel(t, c)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">{t('filter.apply')}</button>
        </form>
      ) : null}
      {days.length === 0 ? <p class="m">{t('news.none')}</p> : null}
      {days.map((d) => (
        <section>
          <h3 class="m">
            {d.today ? t('news.today') : `${d.date.slice(8, 10)}/${d.date.slice(5, 7)}/${d.date.slice(0, 4)}`}
          </h3>
          {d.items.map((b) => (
            <article class="card" id={`b-${b.id}`}>
              <h3 lang={b.lang}>{b.title}</h3>
              <small>
                {b.category ? <span class="tag">{categoryLabel(t, b.category)}</span> : null}
                <span class="tag">{b.lang}</span>
                {localTime(b.publishedAt, false)}
              </small>
              {b.audio ? (
                <audio controls preload="none" src={`/p/a/${b.audio.sha256}.ogg`} aria-label={b.title}>
                  <track kind="captions" />
                </audio>
              ) : null}
              {b.text ? <p lang={b.lang}>{b.text}</p> : null}
              {b.emergency ? null : (
                <form method="post" action={`${base}/rate`} class="stars">
                  <input type="hidden" name="content" value={b.id} />
                  {lang === 'en' ? <input type="hidden" name="lang" value="en" /> : null}
                  {b.survey ? (
                    <fieldset>
                      <legend lang={b.lang}>{b.survey.question}</legend>
                      {b.survey.options.map((o, i) => (
                        <label lang={b.lang}>
                          <input type="radio" name="choice" value={String(i)} /> {o}
                        </label>
                      ))}
                    </fieldset>
                  ) : null}
                  <span class="m">{t('rate.label')}: </span>
                  {[1, 2, 3, 4, 5].map((n) => (
                    <label>
                      <input type="radio" name="stars" value={String(n)} aria-label={`${n}/5`} />
                      {n}★
                    </label>
                  ))}
                  <button type="submit" class="btn2">
                    {b.survey ? t('survey.send') : t('rate.send')}
                  </button>
                </form>
              )}
            </article>
          ))}
        </section>
      ))}
      <p>
        {filter.page > 1 ? (
          <a class="btn btn2" href={q({ page: filter.page - 1 === 1 ? undefined : filter.page - 1 })}>
            {t('news.newer')}
          </a>
        ) : null}{' '}
        {more ? (
          <a class="btn btn2" href={q({ page: filter.page + 1 })}>
            {t('news.more')}
          </a>
        ) : null}
      </p>
      {view.answers.length > 0 ? (
        <>
          <h2>{t('answers.heading')}</h2>
          {view.answers.map((a) => (
            <article class="card" id={`a-${a.id}`}>
              <p class="m">{a.text}</p>
              <p>{a.answer}</p>
              {a.answeredAt ? <small>{localTime(a.answeredAt)}</small> : null}
            </article>
          ))}
        </>
      ) : null}
      <h2>{t('map.heading')}</h2>
      <StationMap stations={view.stations} t={t} />
      <p>
        <a class="btn" href={`${base}/feedback${lang === 'en' ? '?lang=en' : ''}`}>
          {t('fb.link')}
        </a>
      </p>
    </Shell>
  );
}

export const TOPICS = ['question', 'complaint', 'speaker', 'suggestion', 'policy', 'other'] as const;

export function FeedbackPage(props: {
  view: PublicView;
  lang: PublicLang;
  t: PT;
  script: string;
  challenge: string;
  maxMb: number;
  error?: string;
  sent?: { id: string; due: string };
  values?: { topic?: string; text?: string; contact?: string };
}) {
  const { view, t, lang } = props;
  const base = `/p/${view.unit.path}`;
  const v = props.values ?? {};
  return (
    <Shell
      lang={lang}
      t={t}
      title={`${t('fb.heading')} · ${view.unit.name}`}
      unitPath={view.unit.path}
      script={props.script}
      heading={t('fb.heading')}
      sub={view.unit.name}
      langHref={`${base}/feedback${lang === 'en' ? '' : '?lang=en'}`}
    >
      {props.sent ? (
        <p class="ok" role="status" id="sent">
          {t('fb.sent', { id: props.sent.id, due: props.sent.due })}
        </p>
      ) : null}
      {props.error ? (
        <p class="err" role="alert" id="error">
          {props.error}
        </p>
      ) : null}
      <p>{t('fb.intro', { unit: view.unit.name })}</p>
      <form
        method="post"
        action={`${base}/feedback${lang === 'en' ? '?lang=en' : ''}`}
        enctype="multipart/form-data"
        id="fb"
        class="card"
      >
        <input type="hidden" name="pow" value={props.challenge} />
        <input type="hidden" name="nonce" value="" />
        <label for="topic">{t('fb.topic')}</label>
        <select id="topic" name="topic">
          {TOPICS.map((k) => (
            <option value={k} selected={v.topic === k}>
              {t(`topic.${k}`)}
            </option>
          ))}
        </select>
        <label for="text">{t('fb.text')}</label>
        <textarea id="text" name="text" rows={5} maxlength={2000} required>
          {v.text ?? ''}
        </textarea>
        <label for="photo">{t('fb.photo', { mb: props.maxMb })}</label>
        <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" />
        <label for="contact">{t('fb.contact')}</label>
        <input
          id="contact"
          name="contact"
          type="text"
          maxlength={120}
          value={v.contact ?? ''}
          autocomplete="tel"
        />
        <p>
          <button type="submit" data-working={t('fb.working')}>
            {t('fb.send')}
          </button>
        </p>
        <noscript>
          <p class="m">{t('fb.nojs')}</p>
        </noscript>
      </form>
      <p>
        <a href={`${base}${lang === 'en' ? '?lang=en' : ''}`}>{t('fb.back')}</a>
      </p>
    </Shell>
  );
}
