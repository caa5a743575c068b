/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The administration page's boundaries section: what the map draws now, and a form to upload the
 * province's GeoJSON (checked by the API; a refused file leaves the map as it was).
 */
import { MAX_BOUNDARIES_BYTES } from '../../../domain/boundaries.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { formatDateTime } from '../time.js';

export interface BoundariesForm {
  current: { features: number; updatedAt: string } | null;
  errors?: FieldErrors;
  /** Set after an accepted upload: how many areas and units it holds. */
  stored?: { features: number; units: number };
}

export const BOUNDARIES_FORM_LIMIT = MAX_BOUNDARIES_BYTES + 64 * 1024;

export function BoundariesSection(props: { ctx: UiCtx; form: BoundariesForm }) {
  const { ctx, form } = props;
  const t = ctx.t;
  const e = form.errors;
  return (
    <Section title={t('bnd.title')} id="boundaries">
      <p data-k="bnd:current">
        {form.current
          ? t('bnd.current', { n: form.current.features, at: formatDateTime(form.current.updatedAt) })
          : t('bnd.none')}{' '}
        <a href={ui('/fleet#map')}>{t('bnd.seeMap')}</a>
      </p>
      {form.stored ? (
        <p class="flash ok" role="status" data-k="bnd:stored">
          {t('bnd.stored', { n: form.stored.features, units: form.stored.units })}
        </p>
      ) : null}
      <FormErrorSummary ctx={ctx} errors={e} />
      <form
        method="post"
        action={ui('/admin/boundaries')}
        enctype="multipart/form-data"
        class="stack"
        novalidate
      >
        <Csrf ctx={ctx} />
        <Field
          ctx={ctx}
          name="geojson"
          label={t('bnd.file')}
          errors={e}
          hint={t('bnd.hint', { max: Math.round(MAX_BOUNDARIES_BYTES / 1048576) })}
        >
          <input
            {...fieldAttrs(e, 'geojson')}
            type="file"
            accept=".geojson,.json,application/geo+json,application/json"
          />
        </Field>
        <div class="actions">
          <button type="submit">{t('bnd.upload')}</button>
        </div>
      </form>
    </Section>
  );
}
