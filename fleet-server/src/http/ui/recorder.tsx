/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The browser recorder ("Ghi âm"), shared by the content page and the emergency page: start and
 * stop buttons, the elapsed time, the microphone level, a status line that speaks the operator's
 * language (no microphone, permission refused, too short, very quiet) and, once stopped, the
 * recording to listen back. assets/recorder.js drives it and reads its data-* texts and limits.
 *
 * What follows a recording is the page's: the content page puts its own save form in `children`
 * (recorder.js uploads the recording as `source=recording`); the emergency page puts a hidden
 * file input marked `data-rec-file` (recorder.js places the recording in it, and the page's own
 * form sends it with everything else).
 */
import type { Child } from 'hono/jsx';
import type { UiCtx } from './context.js';
import type { MsgKey } from './i18n/index.js';

/** Recording limits, seconds (the server holds the same ones: ContentService.recording). */
export interface RecorderLimits {
  recMinS: number;
  recMaxS: number;
}

/** The limits from the content service's recording settings (defaults without the plugin). */
export function recorderLimits(limits: { minMs: number; maxMs: number } | undefined): RecorderLimits {
  return { recMinS: (limits?.minMs ?? 1500) / 1000, recMaxS: (limits?.maxMs ?? 600_000) / 1000 };
}

export function Recorder(props: {
  ctx: UiCtx;
  limits: RecorderLimits;
  /** The hint above the buttons. */
  hint: MsgKey;
  /** The status once stopped ("Đã ghi {s}. …": what to do next on this page). */
  review: MsgKey;
  /** Where the content page goes once its recording is saved. */
  done?: string;
  children?: Child;
}) {
  const { ctx, limits } = props;
  const t = ctx.t;
  const m = Math.round(limits.recMaxS / 60);
  return (
    <div
      data-recorder
      data-min-s={String(limits.recMinS)}
      data-max-s={String(limits.recMaxS)}
      data-msg-recording={t('rec.recording')}
      data-msg-review={t(props.review, { s: '{s}' })}
      data-msg-saving={t('rec.saving')}
      data-msg-unsupported={t('rec.unsupported')}
      data-msg-nomic={t('rec.noMic')}
      data-msg-denied={t('rec.denied')}
      data-msg-busy={t('rec.busy')}
      data-msg-micerror={t('rec.micError', { name: '{name}' })}
      data-msg-tooshort={t('rec.tooShort', { s: String(limits.recMinS) })}
      data-msg-capped={t('rec.capped', { m })}
      data-msg-quiet={t('rec.quiet')}
      data-msg-failed={t('rec.failed', { msg: '{msg}' })}
      data-msg-stopfirst={t('rec.stopFirst')}
      data-done={props.done}
    >
      <p class="muted">{t(props.hint)}</p>
      <noscript>
        <p class="flash error">{t('rec.noscript')}</p>
      </noscript>
      <div class="rec-controls">
        <button type="button" data-rec-start>
          <span aria-hidden="true">● </span>
          {t('rec.start')}
        </button>
        <button type="button" class="danger" data-rec-stop hidden>
          <span aria-hidden="true">■ </span>
          {t('rec.stop')}
        </button>
        <span class="rec-time">
          <strong data-rec-time>0:00</strong> <small class="muted">({t('rec.max', { m })})</small>
        </span>
      </div>
      <meter
        class="rec-level"
        data-rec-level
        min={0}
        max={1}
        low={0.1}
        high={0.85}
        optimum={0.5}
        value={0}
        aria-label={t('rec.level')}
      />
      <p class="rec-status" data-rec-status role="status" aria-live="polite" />
      <div data-rec-review hidden>
        <audio controls data-rec-audio>
          <track kind="captions" />
        </audio>
        {props.children}
      </div>
    </div>
  );
}
