/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The programme form's loudspeaker zones, chosen by the names stations were given on their pages. */
import type { DeviceRecord } from '../../../domain/model.js';
import { Field, fieldAttrs } from '../components.js';
import type { FieldErrors, UiCtx } from '../context.js';

/** A zone id as the stations name it, and how many stations in scope have it. */
export interface ZoneChoice {
  id: string;
  name: string;
  stations: number;
}

/** The zones named on stations, by id (one id named differently on two stations shows both names). */
export function zoneChoices(devices: readonly DeviceRecord[]): ZoneChoice[] {
  const byId = new Map<string, { names: Set<string>; stations: number }>();
  for (const d of devices)
    for (const z of d.zones ?? []) {
      const cur = byId.get(z.id) ?? { names: new Set<string>(), stations: 0 };
      cur.names.add(z.name);
      cur.stations += 1;
      byId.set(z.id, cur);
    }
  return [...byId]
    .map(([id, v]) => ({ id, name: [...v.names].slice(0, 3).join(' / '), stations: v.stations }))
    .sort((a, b) => a.name.localeCompare(b.name, 'vi', { numeric: true }));
}

/**
 * Loudspeaker zones chosen by name (checkboxes, none = every zone); ids the stations have not
 * named stay choosable by id. With no named zone at all, the ids are typed as before.
 */
export function ZonesField(props: {
  ctx: UiCtx;
  zones: ZoneChoice[];
  value: string;
  errors?: FieldErrors | undefined;
}) {
  const { ctx, zones } = props;
  const t = ctx.t;
  const e = props.errors;
  const chosen = props.value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (zones.length === 0)
    return (
      <Field ctx={ctx} name="zones" label={t('prog.zones')} errors={e} hint={t('prog.zonesHint')}>
        <input {...fieldAttrs(e, 'zones')} value={props.value} />
      </Field>
    );
  const extra = chosen.filter((id) => !zones.some((z) => z.id === id));
  return (
    <Field ctx={ctx} name="zones" label={t('prog.zones')} errors={e} hint={t('prog.zonesPick')}>
      <fieldset class="checks" id="f-zones">
        <legend class="sr-only">{t('prog.zones')}</legend>
        {zones.map((z) => (
          <label title={z.id}>
            <input type="checkbox" name="zones" value={z.id} checked={chosen.includes(z.id)} /> {z.name}{' '}
            <small class="muted">({t('prog.zoneStations', { n: z.stations })})</small>
          </label>
        ))}
        {extra.map((id) => (
          <label>
            <input type="checkbox" name="zones" value={id} checked /> {id}
          </label>
        ))}
      </fieldset>
    </Field>
  );
}
