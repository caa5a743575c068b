/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Editing a device from its page: name, location (typed, or a click on the map) and groups; the
 * form is checked here (field messages in Vietnamese) and saved through the API, which audits it.
 */
import type { DeviceRecord, GroupRecord } from '../../../domain/model.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { type FormFields, list, str } from '../shared.js';

export interface DeviceEditValues {
  name: string;
  lat: string;
  lon: string;
  groups: string[];
}

export function editValues(d: DeviceRecord): DeviceEditValues {
  return {
    name: d.name,
    lat: d.location ? String(d.location.lat) : '',
    lon: d.location ? String(d.location.lon) : '',
    groups: d.groups,
  };
}

/** The API body from the form, or field errors (pure). Coordinates: both or neither, in range. */
export function parseDeviceEdit(
  f: FormFields,
  known: ReadonlySet<string>,
): { values: DeviceEditValues; errors: FieldErrors; body?: Record<string, unknown> } {
  const values: DeviceEditValues = {
    name: str(f, 'name'),
    lat: str(f, 'lat').replace(',', '.'),
    lon: str(f, 'lon').replace(',', '.'),
    groups: list(f, 'groups'),
  };
  const errors: FieldErrors = {};
  if (!values.name) errors.name = { key: 'err.required' };
  else if (values.name.length > 200) errors.name = { key: 'err.tooLong', params: { max: 200 } };
  const lat = Number(values.lat);
  const lon = Number(values.lon);
  if (values.lat || values.lon) {
    if (!values.lat || !Number.isFinite(lat) || lat < -90 || lat > 90) errors.lat = { key: 'dev.err.lat' };
    if (!values.lon || !Number.isFinite(lon) || lon < -180 || lon > 180) errors.lon = { key: 'dev.err.lon' };
  }
  if (values.groups.some((g) => !known.has(g))) errors.groups = { key: 'err.invalid' };
  if (Object.keys(errors).length > 0) return { values, errors };
  return {
    values,
    errors,
    body: {
      name: values.name,
      groups: values.groups,
      ...(values.lat ? { location: { lat, lon } } : {}),
    },
  };
}

export function DeviceEditSection(props: {
  ctx: UiCtx;
  d: DeviceRecord;
  groups: GroupRecord[];
  values: DeviceEditValues;
  errors?: FieldErrors | undefined;
  tileUrl: string;
}) {
  const { ctx, d, values: v } = props;
  const t = ctx.t;
  const e = props.errors;
  return (
    <Section title={t('dev.edit')} id="device-edit">
      <FormErrorSummary ctx={ctx} errors={e} />
      <form method="post" action={ui(`/devices/${encodeURIComponent(d.id)}/edit`)} class="stack" novalidate>
        <Csrf ctx={ctx} />
        <Field ctx={ctx} name="name" label={t('dev.name')} errors={e}>
          <input {...fieldAttrs(e, 'name')} value={v.name} maxlength={200} />
        </Field>
        <div class="grid">
          <Field ctx={ctx} name="lat" label={t('dev.lat')} errors={e} hint={t('dev.latHint')}>
            <input {...fieldAttrs(e, 'lat')} value={v.lat} inputmode="decimal" />
          </Field>
          <Field ctx={ctx} name="lon" label={t('dev.lon')} errors={e} hint={t('dev.lonHint')}>
            <input {...fieldAttrs(e, 'lon')} value={v.lon} inputmode="decimal" />
          </Field>
        </div>
        <div
          id="edit-map"
          class="edit-map"
          data-tiles={props.tileUrl}
          data-boundaries={ui('/fleet/boundaries.geojson')}
        />
        <p class="muted">{t('dev.mapHint')}</p>
        <Field ctx={ctx} name="groups" label={t('dev.groups')} errors={e}>
          {props.groups.length === 0 ? (
            <p class="muted">{t('dev.noGroups')}</p>
          ) : (
            <fieldset class="checks" id="f-groups">
              <legend class="sr-only">{t('dev.groups')}</legend>
              {props.groups.map((g) => (
                <label>
                  <input type="checkbox" name="groups" value={g.id} checked={v.groups.includes(g.id)} />{' '}
                  {g.name}
                </label>
              ))}
            </fieldset>
          )}
        </Field>
        <div class="actions">
          <button type="submit">{t('dev.save')}</button>
        </div>
      </form>
    </Section>
  );
}
