/**
 * Manifests and choices for the pure day and week plans of a commune (programme-timeline,
 * programme-week): unsigned, valid December 2026, audio items of five minutes each.
 */
import type { Choices, Manifest } from '@loa/protocol';

export const SHA = 'a'.repeat(64);

type Priority = 'normal' | 'priority' | 'emergency';

/**
 * A bundle's manifest for `unit` with the given items, and its schedule either as entries or as
 * daily times per entry id (`{ sang: ['06:00'] }`: the items whose id starts with "sang").
 */
export function manifest(
  id: string,
  unit: string,
  items: [string, Priority][],
  schedule: NonNullable<Manifest['schedule']> | Record<string, string[]>,
): Manifest {
  return {
    type: 'loa-bundle',
    format: 1,
    id,
    channel: id,
    version: 1,
    created: '2026-12-01T00:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    utcOffset: '+07:00',
    description: `Chương trình ${id}`,
    targets: [{ unit }],
    items: items.map(([iid, priority]) => ({
      id: iid,
      title: `Bản tin ${iid}`,
      kind: 'audio' as const,
      priority,
      lang: 'vi',
      blob: { sha256: SHA, size: 10, mediaType: 'audio/ogg' },
      durationMs: 5 * 60_000,
    })),
    schedule: Array.isArray(schedule)
      ? schedule
      : Object.entries(schedule).map(([entry, t]) => ({
          id: entry,
          items: items.map(([iid]) => iid).filter((iid) => iid.startsWith(entry)),
          rule: { type: 'daily' as const, times: t },
        })),
    signatures: [],
  };
}

/** Version 4 of Thị trấn Sơn Dương's choices: quiet from 22:00 to 05:00, and the given opt-outs. */
export function communeChoices(optOut: Choices['optOut']): Choices {
  return {
    type: 'loa-choices',
    format: 1,
    unit: '08/02500',
    version: 4,
    issued: '2026-12-01T00:00:00Z',
    optOut,
    quietHours: [{ start: '22:00', end: '05:00' }],
    signatures: [],
  };
}

/**
 * The province's programme every day: at 06:00 a normal item (the commune refuses it) and a
 * priority one, at 22:30 a normal item (inside the commune's quiet hours).
 */
export const provinceDaily = manifest(
  'tinh',
  '08',
  [
    ['sang-1', 'normal'],
    ['sang-2', 'priority'],
    ['dem-1', 'normal'],
  ],
  { sang: ['06:00'], dem: ['22:30'] },
);
