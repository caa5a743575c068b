/**
 * Amplifier sequencing rules, pure: events in, actions out, time injected.
 *
 *   off ──ready──▶ warming ──timer──▶ on ──idle──▶ tail ──timer──▶ off
 *                               ▲        │ zones/input differ      │ ready
 *                               └─timer─ switching ◀──────────────┘ (same zones: straight to on)
 *
 * - Cold start: mute, set zone relays (the amplifier is off, no pop), amplifier relay on, wait
 *   the warm-up, unmute, then the caller may play.
 * - Zone and input-select relays switch only while the output is muted; after switching the
 *   output stays muted for `settleMs` (relay contact settling) before it is unmuted.
 * - After idle() the amplifier stays on for `idleTailMs` (a following item starts at once),
 *   then goes off with its zones.
 * - safe: everything off at once (stop, SIGTERM, boot, crash-restart).
 */

export type AmpPhase = 'off' | 'warming' | 'switching' | 'on' | 'tail';
export type AudioInput = 'player' | 'fm' | 'line';

export interface AmpConfig {
  /** Configured zone names (each has a relay). May be empty. */
  zones: readonly string[];
  /** Time from amplifier relay on to the first audio. Default 2000. */
  warmupMs: number;
  /** Time the amplifier stays on after the last item. Default 10000. */
  idleTailMs: number;
  /** Muted time after a zone or input relay switched. Default 150. */
  settleMs: number;
}

export const AMP_DEFAULTS = { warmupMs: 2000, idleTailMs: 10_000, settleMs: 150 } as const;

export interface AmpState {
  phase: AmpPhase;
  amplifier: boolean;
  muted: boolean;
  zones: Readonly<Record<string, boolean>>;
  input: AudioInput;
  /** When the single pending timer is due, or null. */
  deadline: number | null;
  /** When the amplifier's warm-up ends (or ended); null while it is off. */
  warmUntil: number | null;
}

export type AmpEvent =
  /** The player wants to play to these zones (undefined: every configured zone). */
  | { type: 'ready'; at: number; zones?: readonly string[] | undefined }
  | { type: 'idle'; at: number }
  | { type: 'input'; at: number; input: AudioInput }
  | { type: 'timer'; at: number }
  | { type: 'safe'; at: number };

export type AmpAction =
  | { type: 'mute'; muted: boolean }
  | { type: 'amplifier'; on: boolean }
  | { type: 'zone'; zone: string; on: boolean }
  | { type: 'input'; input: AudioInput }
  /** Arm the single timer for `at`, or cancel it (null). */
  | { type: 'timer'; at: number | null }
  /** Resolve every waiting ready() call. */
  | { type: 'ready' }
  /** Reject every waiting ready() call. */
  | { type: 'abort'; reason: 'safe' | 'idle' };

export interface AmpStep {
  state: AmpState;
  actions: AmpAction[];
}

export function initialAmpState(config: AmpConfig): AmpState {
  return {
    phase: 'off',
    amplifier: false,
    muted: true,
    zones: Object.fromEntries(config.zones.map((z) => [z, false])),
    input: 'player',
    deadline: null,
    warmUntil: null,
  };
}

/** Zone names in `wanted` that are not configured (the service rejects these before stepping). */
export function unknownZones(config: AmpConfig, wanted: readonly string[]): string[] {
  return wanted.filter((z) => !config.zones.includes(z));
}

function targetZones(config: AmpConfig, wanted: readonly string[] | undefined): Record<string, boolean> {
  const set = new Set(wanted ?? config.zones);
  return Object.fromEntries(config.zones.map((z) => [z, set.has(z)]));
}

function zoneActions(from: Readonly<Record<string, boolean>>, to: Record<string, boolean>): AmpAction[] {
  const out: AmpAction[] = [];
  // Switch off before on, so two zones never share a moment on a half-switched bus.
  for (const [zone, on] of Object.entries(to)) if (!on && from[zone]) out.push({ type: 'zone', zone, on });
  for (const [zone, on] of Object.entries(to)) if (on && !from[zone]) out.push({ type: 'zone', zone, on });
  return out;
}

export function ampStep(state: AmpState, event: AmpEvent, config: AmpConfig): AmpStep {
  switch (event.type) {
    case 'safe':
      return safeStep(state, config);
    case 'ready':
      return readyStep(state, event.at, targetZones(config, event.zones), config);
    case 'idle':
      return idleStep(state, event.at, config);
    case 'input':
      return inputStep(state, event.at, event.input, config);
    case 'timer':
      return timerStep(state, event.at, config);
  }
}

function safeStep(state: AmpState, config: AmpConfig): AmpStep {
  const actions: AmpAction[] = [
    { type: 'timer', at: null },
    { type: 'mute', muted: true },
  ];
  actions.push({ type: 'amplifier', on: false });
  const off = targetZones(config, []);
  actions.push(...zoneActions(state.zones, off));
  if (state.input !== 'player') actions.push({ type: 'input', input: 'player' });
  actions.push({ type: 'abort', reason: 'safe' });
  return {
    state: { ...initialAmpState(config), zones: off },
    actions,
  };
}

function readyStep(state: AmpState, at: number, zones: Record<string, boolean>, config: AmpConfig): AmpStep {
  const changes = zoneActions(state.zones, zones);
  switch (state.phase) {
    case 'off': {
      const deadline = at + config.warmupMs;
      const actions: AmpAction[] = [{ type: 'mute', muted: true }, ...changes];
      actions.push({ type: 'amplifier', on: true }, { type: 'timer', at: deadline });
      return {
        state: {
          ...state,
          phase: 'warming',
          amplifier: true,
          muted: true,
          zones,
          deadline,
          warmUntil: deadline,
        },
        actions,
      };
    }
    case 'warming':
      // Still muted and warming: switch zones now, keep the warm-up deadline.
      return { state: { ...state, zones }, actions: changes };
    case 'switching': {
      if (changes.length === 0) return { state, actions: [] };
      const deadline = settledAt(state, at, config);
      return {
        state: { ...state, zones, deadline },
        actions: [...changes, { type: 'timer', at: deadline }],
      };
    }
    case 'on':
    case 'tail': {
      const warm = state.warmUntil ?? at;
      if (changes.length === 0 && at < warm) {
        // idle() came during the warm-up: finish warming before anything plays.
        return {
          state: { ...state, phase: 'warming', deadline: warm },
          actions: [{ type: 'timer', at: warm }],
        };
      }
      if (changes.length === 0) {
        const actions: AmpAction[] = [{ type: 'timer', at: null }];
        if (state.muted) actions.push({ type: 'mute', muted: false });
        actions.push({ type: 'ready' });
        return { state: { ...state, phase: 'on', muted: false, deadline: null }, actions };
      }
      const deadline = settledAt(state, at, config);
      const actions: AmpAction[] = [
        { type: 'mute', muted: true },
        ...changes,
        { type: 'timer', at: deadline },
      ];
      return { state: { ...state, phase: 'switching', muted: true, zones, deadline }, actions };
    }
  }
}

/** End of a relay settle, never before the warm-up ends. */
function settledAt(state: AmpState, at: number, config: AmpConfig): number {
  return Math.max(at + config.settleMs, state.warmUntil ?? 0);
}

function idleStep(state: AmpState, at: number, config: AmpConfig): AmpStep {
  if (state.phase === 'off' || state.phase === 'tail') return { state, actions: [] };
  const deadline = at + config.idleTailMs;
  const actions: AmpAction[] = [];
  if (state.phase !== 'on') actions.push({ type: 'abort', reason: 'idle' });
  actions.push({ type: 'timer', at: deadline });
  return { state: { ...state, phase: 'tail', deadline }, actions };
}

function inputStep(state: AmpState, at: number, input: AudioInput, config: AmpConfig): AmpStep {
  if (state.input === input) return { state, actions: [] };
  const actions: AmpAction[] = [];
  if (!state.muted) actions.push({ type: 'mute', muted: true });
  actions.push({ type: 'input', input });
  if (state.phase === 'on' || state.phase === 'switching') {
    const deadline = settledAt(state, at, config);
    actions.push({ type: 'timer', at: deadline });
    return { state: { ...state, phase: 'switching', muted: true, input, deadline }, actions };
  }
  // off, warming, tail: stay in phase (still muted); the next ready() unmutes.
  return { state: { ...state, muted: true, input }, actions };
}

function timerStep(state: AmpState, at: number, _config: AmpConfig): AmpStep {
  if (state.deadline === null || at < state.deadline) return { state, actions: [] };
  switch (state.phase) {
    case 'warming':
    case 'switching':
      return {
        state: { ...state, phase: 'on', muted: false, deadline: null },
        actions: [{ type: 'mute', muted: false }, { type: 'ready' }],
      };
    case 'tail': {
      const off = Object.fromEntries(Object.keys(state.zones).map((z) => [z, false]));
      const actions: AmpAction[] = [];
      if (!state.muted) actions.push({ type: 'mute', muted: true });
      actions.push({ type: 'amplifier', on: false }, ...zoneActions(state.zones, off));
      return {
        state: {
          ...state,
          phase: 'off',
          amplifier: false,
          muted: true,
          zones: off,
          deadline: null,
          warmUntil: null,
        },
        actions,
      };
    }
    default:
      return { state: { ...state, deadline: null }, actions: [] };
  }
}
