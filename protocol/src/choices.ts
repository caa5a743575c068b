/**
 * A commune's programme choices (`loa-choices`): which upper-level normal-priority content its
 * stations carry, and its own quiet hours, set centrally (by the commune's operator or the
 * province) instead of in each station's config or each bundle.
 *
 * Why a separate signed document, applied by the station, rather than per-unit bundles built by
 * the server: a province bundle is signed once by the people who approved it, for every unit it
 * targets; the server cannot re-sign it per commune without holding their keys or weakening the
 * approval. So the bundle stays as the province signed it and every station of a commune applies
 * the commune's choices on top of it, offline included. The choices can only remove normal items
 * of upper-level bundles and add quiet hours: priority and emergency items always play (TT
 * 39/2020), and quiet hours never hold an emergency. The document is signed under the `content`
 * role by keys whose scope covers the unit (the commune's own operator, or the province), with the
 * policy's threshold for that role; versions only go up per unit.
 */
import { z } from 'zod';
import { VerifyError } from './errors.js';
import {
  ChannelSchema,
  IdSchema,
  InstantSchema,
  type Item,
  type Manifest,
  QuietHoursSchema,
  UtcOffsetSchema,
} from './manifest.js';
import { SignatureSchema } from './signing.js';
import type { TrustPolicy } from './trust.js';
import { UnitPathSchema, unitCovers } from './units.js';
import { checkRoleSignatures, DEFAULT_CLOCK_SKEW_MS, documentDigest } from './verify.js';

export const CHOICES_FORMAT = 1;

/**
 * One opt-out: normal items of upper-level bundles on `channel` (every channel when absent),
 * only in the schedule entries named (all when absent), only of the categories named (all when
 * absent). At least a channel or a category.
 */
export const OptOutSchema = z
  .strictObject({
    channel: ChannelSchema.optional(),
    entries: z.array(IdSchema).min(1).max(100).optional(),
    categories: z.array(z.string().min(1).max(64)).min(1).max(50).optional(),
  })
  .refine((o) => o.channel !== undefined || o.categories !== undefined, {
    message: 'an opt-out names a channel or categories',
  });
export type OptOut = z.infer<typeof OptOutSchema>;

const choicesShape = {
  type: z.literal('loa-choices'),
  format: z.number().int(),
  /** The unit whose stations apply it (a commune, or any unit of the tree). */
  unit: UnitPathSchema,
  /** Only goes up per unit: a station keeps the highest it verified. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issued: InstantSchema,
  optOut: z.array(OptOutSchema).max(200),
  /** The unit's quiet hours (added to the station's and the bundles'): only emergencies play then. */
  quietHours: z.array(QuietHoursSchema).max(8),
  /** Offset of the quiet hours' local times (default +07:00). */
  utcOffset: UtcOffsetSchema.optional(),
};
export const ChoicesBodySchema = z.strictObject(choicesShape);
export const ChoicesSchema = z.strictObject({
  ...choicesShape,
  signatures: z.array(SignatureSchema).max(32),
});
export type ChoicesBody = z.infer<typeof ChoicesBodySchema>;
export type Choices = z.infer<typeof ChoicesSchema>;

/** Server → device (`d/{id}/choices`) or unit subtree (`u/{unit}/choices`). */
export const ChoicesNotifySchema = z.strictObject({ choices: ChoicesSchema, serverTime: InstantSchema });
export type ChoicesNotify = z.infer<typeof ChoicesNotifySchema>;

export interface VerifyChoicesOptions {
  trust: TrustPolicy;
  now: Date;
  /** The station's unit: the choices must be for it or one of its ancestors. */
  deviceUnit?: string;
  /** The version the station holds for that unit (a lower or equal one is refused). */
  installedVersion?: number;
  clockSkewMs?: number;
}

/** Verifies a choices document: schema, format, `content` signatures covering its unit, unit, version. */
export function verifyChoices(
  raw: unknown,
  opts: VerifyChoicesOptions,
): { choices: Choices; digest: string } {
  const parsed = ChoicesSchema.safeParse(raw);
  if (!parsed.success)
    throw new VerifyError(
      'CHOICES_MALFORMED',
      parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`)
        .join('; '),
    );
  const choices = parsed.data;
  if (choices.format !== CHOICES_FORMAT)
    throw new VerifyError('FORMAT_UNSUPPORTED', `choices format ${choices.format} is not supported`);
  checkRoleSignatures(choices, opts.trust, ['content'], [choices.unit]);
  if (Date.parse(choices.issued) - (opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS) > opts.now.getTime())
    throw new VerifyError('NOT_YET_VALID', `the choices are issued at ${choices.issued}`);
  if (opts.deviceUnit !== undefined && !unitCovers(choices.unit, opts.deviceUnit))
    throw new VerifyError(
      'TARGET_MISMATCH',
      `the choices are for unit ${choices.unit}, not ${opts.deviceUnit}`,
    );
  if (opts.installedVersion !== undefined && choices.version <= opts.installedVersion)
    throw new VerifyError(
      'VERSION_ROLLBACK',
      `choices version ${choices.version} is not newer than the installed ${opts.installedVersion}`,
    );
  return { choices, digest: documentDigest(choices) };
}

/**
 * True when the bundle is upper-level content for `unit`: none of its targets lies inside the
 * unit's subtree (a province or district broadcast, not the commune's own or its villages').
 */
export function isUpperLevel(m: Pick<Manifest, 'targets'>, unit: string): boolean {
  return !m.targets.some((t) => unitCovers(unit, t.unit));
}

/**
 * The choices document (and its opt-out) that keeps this item off a station of those units, or
 * undefined when it plays. Only normal items of upper-level bundles can be opted out of.
 */
export function optedOutBy(
  choices: readonly Pick<Choices, 'unit' | 'optOut' | 'version'>[],
  m: Pick<Manifest, 'targets' | 'channel'>,
  entryId: string,
  item: Pick<Item, 'priority' | 'category'>,
): { unit: string; version: number; rule: OptOut } | undefined {
  if (item.priority !== 'normal') return undefined;
  for (const c of choices) {
    if (!isUpperLevel(m, c.unit)) continue;
    for (const rule of c.optOut) {
      if (rule.channel !== undefined && rule.channel !== m.channel) continue;
      if (rule.entries && !rule.entries.includes(entryId)) continue;
      if (rule.categories && (item.category === undefined || !rule.categories.includes(item.category)))
        continue;
      return { unit: c.unit, version: c.version, rule };
    }
  }
  return undefined;
}
