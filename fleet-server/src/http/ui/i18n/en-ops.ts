import type { viOps } from './vi-ops.js';

/** English for {@link viOps} (same keys, enforced by the type checker). */
export const enOps: Record<keyof typeof viOps, string> = {
  'device.onAirTone': 'Test tone',
  'overview.playRateAudio': 'Play rate on loudspeakers',
  'overview.playRateDisplay': 'Shown on noticeboards',
  'out.audio': 'Loudspeakers',
  'out.display': 'Noticeboards',
  'out.header': 'Output',
  'emg.completed': 'Finished',
  'emg.done': 'Finished {done}/{total}',
  'emg.summaryMixed': '{playing}/{total} playing, {done} finished',
};
