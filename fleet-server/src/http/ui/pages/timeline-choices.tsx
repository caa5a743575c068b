/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The commune's choices on the programme page: which upper-level normal slots it does not carry and
 * its quiet hours, posted to the page's handler and signed through the API as the person.
 */
import type { ChoicesView } from '../../../services/choices-service.js';
import { Csrf } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import type { TimelineView } from '../view-models/timeline.js';

export function ChoicesForm(props: {
  ctx: UiCtx;
  unit: string;
  day: string;
  view: TimelineView;
  choices: ChoicesView | undefined;
}) {
  const { ctx, view } = props;
  const t = ctx.t;
  const quiet = [...view.quiet, { start: '', end: '' }, { start: '', end: '' }].slice(
    0,
    Math.max(2, view.quiet.length),
  );
  const p = props.choices?.pending;
  return (
    <form method="post" action={ui('/timeline/choices')} class="tl-choices">
      <Csrf ctx={ctx} />
      <input type="hidden" name="unit" value={props.unit} />
      <input type="hidden" name="day" value={props.day} />
      <input type="hidden" name="kept" value={JSON.stringify(view.kept)} />
      <p class="muted">{t('tl.choicesHelp')}</p>
      {props.choices?.current ? (
        <p class="muted">{t('tl.version', { v: props.choices.current.version })}</p>
      ) : null}
      {p ? <p class="flash">{t('tl.pending', { n: p.signatures, m: p.needed })}</p> : null}
      {view.slots.length === 0 ? <p class="muted">{t('tl.noSlots')}</p> : null}
      <ul class="tl-slots">
        {view.slots.map((s) => (
          <li>
            <label>
              <input type="checkbox" name="refuse" value={s.key} checked={s.refused} />{' '}
              <span>
                {t('tl.refuse')}:{' '}
                {s.outputs.map((o) => (
                  <>
                    <span class={`tl-out ${o}`}>{t(`tl.out.${o}`)}</span>{' '}
                  </>
                ))}
                <strong>{s.programme}</strong>
                {s.titles.length ? ` – ${s.titles.join(', ')}` : ''}{' '}
                <small class="muted">
                  {s.times.length ? t('tl.at', { times: s.times.join(', ') }) : t('tl.notToday')}
                </small>
              </span>
            </label>
          </li>
        ))}
      </ul>
      {view.kept.length ? (
        <div class="muted tl-kept">
          <p>{t('tl.kept', { n: view.kept.length })}</p>
          <ul>
            {view.kept.map((o) => (
              <li>
                {[
                  o.channel ? t('tl.kept.channel', { channel: o.channel }) : t('tl.kept.anyChannel'),
                  o.categories ? t('tl.kept.categories', { categories: o.categories.join(', ') }) : null,
                  o.entries ? t('tl.kept.entries', { entries: o.entries.join(', ') }) : null,
                ]
                  .filter((x) => x !== null)
                  .join(' · ')}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <fieldset class="tl-quiet">
        <legend>{t('tl.quietHours')}</legend>
        {quiet.map((q, i) => (
          <div class="tl-quiet-row">
            <label>
              {t('tl.quietFrom')} <input type="time" name={`qs${i}`} value={q.start} />
            </label>
            <label>
              {t('tl.quietTo')} <input type="time" name={`qe${i}`} value={q.end} />
            </label>
          </div>
        ))}
      </fieldset>
      <button type="submit">{t('tl.save')}</button>
    </form>
  );
}
