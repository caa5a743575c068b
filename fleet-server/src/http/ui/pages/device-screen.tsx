/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** A noticeboard's screen on its device page: the latest screenshot, when it was taken, a capture button. */
import type { ScreenshotMeta } from '../../../services/screenshot-store.js';
import { Ago, Csrf, Empty, Section } from '../components.js';
import { type UiCtx, ui } from '../context.js';
import { formatDateTime } from '../time.js';

export function screenKey(deviceId: string): string {
  return `dev:${deviceId}:screen`;
}

export function ScreenSection(props: {
  ctx: UiCtx;
  deviceId: string;
  name: string;
  latest: ScreenshotMeta | undefined;
  canCommand: boolean;
}) {
  const { ctx, deviceId, latest } = props;
  const t = ctx.t;
  const id = encodeURIComponent(deviceId);
  return (
    <Section
      title={t('device.screen')}
      id="screen"
      actions={
        props.canCommand ? (
          <form method="post" action={ui(`/devices/${id}/command`)} class="actions">
            <Csrf ctx={ctx} />
            <button type="submit" name="action" value="screenshot" class="secondary">
              {t('device.cmd.screenshot')}
            </button>
          </form>
        ) : null
      }
    >
      <div data-k={screenKey(deviceId)}>
        {latest ? (
          <figure class="screenshot" data-screenshot={latest.id}>
            <a href={`/api/v1/devices/${id}/screenshots/${latest.id}`}>
              <img
                src={`/api/v1/devices/${id}/screenshots/${latest.id}`}
                alt={t('device.screen.alt', { name: props.name })}
                style="max-width:100%;height:auto;border:1px solid #8884"
                loading="lazy"
              />
            </a>
            <figcaption>
              {t('device.screen.taken', { at: formatDateTime(latest.takenAt, true) })} ·{' '}
              <Ago ctx={ctx} at={latest.takenAt} />
            </figcaption>
          </figure>
        ) : (
          <Empty>{t('device.screen.none')}</Empty>
        )}
      </div>
    </Section>
  );
}
