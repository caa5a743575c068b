/**
 * One defaults object per component, merged with its options the way aedes and MQTT.js do:
 * `const o = withDefaults(COMPONENT_DEFAULTS, opts)`. Unlike a bare spread, an option passed as
 * `undefined` keeps its default, and only the keys the defaults name are taken.
 */
export function withDefaults<D extends object>(
  defaults: D,
  options?: { [K in keyof D]?: D[K] | undefined },
): D {
  const out = { ...defaults };
  if (options)
    for (const key of Object.keys(defaults) as (keyof D)[]) {
      const v = options[key];
      if (v !== undefined) out[key] = v as D[keyof D];
    }
  return out;
}
