/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Editing a device from its page: name, location (typed, or a click on the map), groups and a
 * station's loudspeaker zone names; the form is checked here (field messages in Vietnamese) and
 * saved through the API, which audits it.
 */
import { IdSchema } from '@loa/protocol';
import type { DeviceRecord, DeviceZone, GroupRecord } from '../../../domain/model.js';
import { Csrf, Field, FormErrorSummary, fieldAttrs, Section } from '../components.js';
import { type FieldErrors, type UiCtx, ui } from '../context.js';
import { type FormFields, list, str } from '../shared.js';
import { fold } from '../text.js';

export interface DeviceEditValues {
  name: string;
  lat: string;
  lon: string;
  groups: string[];
  /** A station's zones: named ones, and the ones its relays report still without a name. */
  zones: DeviceZone[];
  /** The "add a zone" row. */
  newZoneName: string;
  newZoneId: string;
}

/** As many zones as a programme may name (the manifest's limit). */
export const MAX_ZONES = 16;
const ZONE_FIELD = 'zone:';

/** A zone id from its name: "Thôn 1" → "thon-1". */
export function zoneSlug(name: string): string {
  return fold(name)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

/** The form's values: the stored zones, then the zones the station's relays report (unnamed). */
export function editValues(d: DeviceRecord, reportedZones: readonly string[] = []): DeviceEditValues {
  const zones = [...(d.zones ?? [])];
  for (const id of reportedZones) if (!zones.some((z) => z.id === id)) zones.push({ id, name: '' });
  return {
    name: d.name,
    lat: d.location ? String(d.location.lat) : '',
    lon: d.location ? String(d.location.lon) : '',
    groups: d.groups,
    zones,
    newZoneName: '',
    newZoneId: '',
  };
}

/**
 * The API body from the form, or field errors (pure). Coordinates: both or neither, in range.
 * Zones: a cleared name forgets the zone; ids are the station's relay ids (unique, at most 16).
 */
export function parseDeviceEdit(
  f: FormFields,
  known: ReadonlySet<string>,
  /** A station's form has zones; a noticeboard's has none (its zones are left as they are). */
  withZones = false,
): { values: DeviceEditValues; errors: FieldErrors; body?: Record<string, unknown> } {
  const values: DeviceEditValues = {
    name: str(f, 'name'),
    lat: str(f, 'lat').replace(',', '.'),
    lon: str(f, 'lon').replace(',', '.'),
    groups: list(f, 'groups'),
    zones: Object.keys(f)
      .filter((k) => k.startsWith(ZONE_FIELD))
      .map((k) => ({ id: k.slice(ZONE_FIELD.length), name: str(f, k) })),
    newZoneName: str(f, 'newZoneName'),
    newZoneId: str(f, 'newZoneId'),
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
  // a zone whose name is cleared is forgotten; the new row's id defaults to its name's slug
  const zones = values.zones.filter((z) => z.name !== '');
  if (values.zones.some((z) => !IdSchema.safeParse(z.id).success)) errors.zones = { key: 'err.invalid' };
  if (zones.some((z) => z.name.length > 100)) errors.zones = { key: 'err.tooLong', params: { max: 100 } };
  if (values.newZoneName || values.newZoneId) {
    const id = values.newZoneId || zoneSlug(values.newZoneName);
    if (!values.newZoneName) errors.newZoneName = { key: 'err.required' };
    else if (values.newZoneName.length > 100)
      errors.newZoneName = { key: 'err.tooLong', params: { max: 100 } };
    if (!IdSchema.safeParse(id).success) errors.newZoneId = { key: 'dev.err.zoneId' };
    else if (values.zones.some((z) => z.id === id))
      errors.newZoneId = { key: 'dev.err.zoneTaken', params: { id } };
    else zones.push({ id, name: values.newZoneName });
  }
  if (zones.length > MAX_ZONES) errors.zones = { key: 'dev.err.zoneCount', params: { max: MAX_ZONES } };
  if (Object.keys(errors).length > 0) return { values, errors };
  return {
    values,
    errors,
    body: {
      name: values.name,
      groups: values.groups,
      ...(values.lat ? { location: { lat, lon } } : {}),
      ...(withZones ? { zones } : {}),
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
        {d.kind === 'station' ? <ZonesFieldset ctx={ctx} values={v} errors={e} /> : null}
        <div class="actions">
          <button type="submit">{t('dev.save')}</button>
        </div>
      </form>
    </Section>
  );
}

/** A station's loudspeaker zones: a name per relay zone, and a row to add one. */
function ZonesFieldset(props: { ctx: UiCtx; values: DeviceEditValues; errors?: FieldErrors | undefined }) {
  const { ctx, values: v } = props;
  const t = ctx.t;
  const e = props.errors;
  return (
    <fieldset class="zones" id="f-zones">
      <legend>{t('dev.zones')}</legend>
      <p class="muted">{t('dev.zonesHint')}</p>
      {e?.zones ? (
        <p class="error" data-error-for="zones" role="alert">
          {typeof e.zones === 'string' ? e.zones : t(e.zones.key, e.zones.params)}
        </p>
      ) : null}
      {v.zones.length === 0 ? <p class="muted">{t('dev.noZones')}</p> : null}
      {v.zones.map((z) => (
        <div class="field">
          <label for={`f-zone-${z.id}`}>
            {t('dev.zoneName')} <small class="muted">({t('dev.zoneRelay', { id: z.id })})</small>
          </label>
          <input
            id={`f-zone-${z.id}`}
            name={`${ZONE_FIELD}${z.id}`}
            value={z.name}
            maxlength={100}
            data-zone={z.id}
            placeholder={t('dev.zoneNamePh')}
          />
        </div>
      ))}
      <div class="grid">
        <Field ctx={ctx} name="newZoneName" label={t('dev.newZoneName')} errors={e}>
          <input {...fieldAttrs(e, 'newZoneName')} value={v.newZoneName} maxlength={100} />
        </Field>
        <Field ctx={ctx} name="newZoneId" label={t('dev.newZoneId')} errors={e} hint={t('dev.newZoneIdHint')}>
          <input {...fieldAttrs(e, 'newZoneId')} value={v.newZoneId} maxlength={64} />
        </Field>
      </div>
    </fieldset>
  );
}
