/**
 * The technician's test tone routine (technician page): the 1 kHz reference at the alignment
 * level of the station's output profile, then left/right identification and a stepped sweep when
 * asked. The player plays it as one item, with the amplifier and relays switched on in order as
 * for any item; it is refused while an emergency plays and yields to one that comes meanwhile.
 * Returns the steps, so the page can say what the line output carries and when.
 */
import { LoaError } from '@loa/protocol';
import {
  type OutputProfile,
  TONE_ROUTINE_LIMITS,
  type ToneRoutineOptions,
  type ToneStep,
  toneRoutine,
} from '../../domain/output-profile.js';
import type { Player } from '../playback/player.js';

export interface ToneRoutineParts {
  player: Pick<Player, 'testToneRoutine'>;
  profile: OutputProfile;
  /** The output's sample rate (the chain's filters are computed at it). */
  rate: number;
}

export type ToneRoutineRunner = (o: ToneRoutineOptions) => Promise<ToneStep[]>;

/** Checks the technician's choices (stable code TONE_ROUTINE_INVALID) and starts the routine. */
export function toneRoutineRunner({ player, profile, rate }: ToneRoutineParts): ToneRoutineRunner {
  return async (o) => {
    const { referenceS, stepS } = TONE_ROUTINE_LIMITS;
    if (!Number.isInteger(o.referenceS) || o.referenceS < referenceS.min || o.referenceS > referenceS.max)
      throw new LoaError(
        'TONE_ROUTINE_INVALID',
        `Thời lượng âm chuẩn phải là số nguyên ${referenceS.min}–${referenceS.max} giây`,
      );
    const step = o.stepS ?? 2;
    if (!Number.isInteger(step) || step < stepS.min || step > stepS.max)
      throw new LoaError('TONE_ROUTINE_INVALID', `Mỗi bước phải là số nguyên ${stepS.min}–${stepS.max} giây`);
    const steps = toneRoutine(profile, rate, { ...o, stepS: step });
    await player.testToneRoutine(steps, { local: true });
    return steps;
  };
}
