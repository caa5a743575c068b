/**
 * A unit's programme choices as operators edit them (pure): the input, the signed body the server
 * makes of it, and whether a second signature is for the same choices. The document and how
 * stations apply it are protocol's (protocol/src/choices.ts).
 */
import {
  type Choices,
  type ChoicesBody,
  canonicalize,
  LoaError,
  OptOutSchema,
  QuietHoursSchema,
} from '@loa/protocol';
import { z } from 'zod';
import { DEFAULT_UTC_OFFSET } from './bundle-compose.js';

export const ChoicesInputSchema = z.strictObject({
  /** Upper-level normal content the unit's stations do not carry. */
  optOut: z.array(OptOutSchema).max(200),
  /** The unit's own quiet hours (local times, Vietnam +07:00): only emergencies play then. */
  quietHours: z.array(QuietHoursSchema).max(8),
});
export type ChoicesInput = z.infer<typeof ChoicesInputSchema>;

/** Checks what the schema cannot: a quiet window of no length. Throws QUIET_HOURS_INVALID. */
export function checkChoicesInput(input: ChoicesInput): void {
  input.quietHours.forEach((q, i) => {
    if (q.start === q.end)
      throw new LoaError(
        'QUIET_HOURS_INVALID',
        `Giờ yên lặng thứ ${i + 1} bắt đầu và kết thúc cùng lúc (${q.start})`,
        {
          details: { index: i },
        },
      );
  });
}

export function choicesBody(unit: string, input: ChoicesInput, version: number, now: Date): ChoicesBody {
  return {
    type: 'loa-choices',
    format: 1,
    unit,
    version,
    issued: now.toISOString(),
    optOut: input.optOut,
    quietHours: input.quietHours,
    utcOffset: DEFAULT_UTC_OFFSET,
  };
}

/** True when a document says the same as the input (a second person signs what the first asked). */
export function sameChoices(doc: Pick<Choices, 'optOut' | 'quietHours'>, input: ChoicesInput): boolean {
  return (
    canonicalize({ optOut: doc.optOut, quietHours: doc.quietHours }) ===
    canonicalize({ optOut: input.optOut, quietHours: input.quietHours })
  );
}
