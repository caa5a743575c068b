import { z } from 'zod';
import { IdSchema, InstantSchema } from './manifest.js';
import { SignatureSchema } from './signing.js';
import type { Role } from './trust.js';
import { UnitPathSchema } from './units.js';

export const CommandActionSchema = z.enum([
  'play-now',
  'stop',
  'volume',
  'test-tone',
  'relay-test',
  'sync',
  'reboot',
  /** A noticeboard photographs its screen (DevTools) and uploads the picture. */
  'screenshot',
]);
export type CommandAction = z.infer<typeof CommandActionSchema>;

/** Commands a station runs without a signature: they cannot make a sound. */
export const UNSIGNED_ACTIONS: readonly CommandAction[] = ['sync'];

/** Parameters of a command (which apply depends on the action). */
export const CommandParamsSchema = z.strictObject({
  /** play-now: the channel and item of an installed bundle. */
  channel: z.string().max(64).optional(),
  itemId: IdSchema.optional(),
  /** volume: 0..100. */
  volume: z.number().int().min(0).max(100).optional(),
  /** test-tone / relay-test: how long, in seconds. */
  seconds: z.number().int().min(1).max(120).optional(),
  /** test-tone: frequency in Hz. */
  frequencyHz: z.number().int().min(50).max(8000).optional(),
  zone: IdSchema.optional(),
});
export type CommandParams = z.infer<typeof CommandParamsSchema>;

const commandShape = {
  type: z.literal('loa-command'),
  format: z.literal(1),
  /** Unique id (UUID), also the nonce: a station runs each id at most once. */
  id: z.uuid(),
  action: CommandActionSchema,
  issued: InstantSchema,
  /** A station refuses the command after this instant. Keep it short (minutes). */
  expires: InstantSchema,
  /** Exactly one: a device, or a unit subtree (broadcast). */
  target: z.union([
    z.strictObject({ device: IdSchema, unit: UnitPathSchema }),
    z.strictObject({ unit: UnitPathSchema }),
  ]),
  params: CommandParamsSchema.optional(),
  /** Who asked (user name), for the station's log. */
  by: z.string().max(200).optional(),
};
export const CommandBodySchema = z.strictObject(commandShape);
export const CommandSchema = z.strictObject({ ...commandShape, signatures: z.array(SignatureSchema).max(8) });
export type CommandBody = z.infer<typeof CommandBodySchema>;
export type Command = z.infer<typeof CommandSchema>;

/** The role whose signature a command needs (null: none needed). */
export function roleForCommand(action: CommandAction): Role | null {
  return UNSIGNED_ACTIONS.includes(action) ? null : 'command';
}
