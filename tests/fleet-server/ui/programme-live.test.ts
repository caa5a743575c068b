/** The programme form's relay fields (pure view model): a stream or FM item with its fallbacks. */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_PROGRAMME,
  type LiveForm,
  parseProgramme,
} from '../../../fleet-server/src/http/ui/view-models/programme-form.js';

const ctx = {
  nowMs: Date.parse('2026-12-07T00:00:00Z'),
  inScope: () => true,
  knownContent: new Set(['du-phong']),
};
const live = (l: Partial<LiveForm>): LiveForm => ({
  kind: 'stream',
  title: 'Tiếp sóng VOV1',
  url: 'http://127.0.0.1:8000/vov1',
  format: 'mp3',
  fm: '',
  minutes: '30',
  fallbackFm: '96,5',
  fallbackRecording: 'du-phong',
  ...l,
});
const form = (l: LiveForm) => ({
  ...EMPTY_PROGRAMME,
  channel: 'tiep-song',
  targetUnits: ['08/02500'],
  live: l,
});

describe('programme form: relay items', () => {
  it('a stream relay alone is a programme, with its fallback FM (comma decimal) and recording', () => {
    const r = parseProgramme(form(live({})), ctx);
    expect('body' in r).toBe(true);
    if (!('body' in r)) return;
    expect(r.body.items).toEqual([
      {
        id: 'tiep-song',
        title: 'Tiếp sóng VOV1',
        priority: 'normal',
        durationMs: 1_800_000,
        live: { kind: 'stream', url: 'http://127.0.0.1:8000/vov1', format: 'mp3' },
        fallback: { fmMHz: 96.5, recording: 'du-phong' },
      },
    ]);
    expect(r.body.schedule[0]?.items).toEqual(['tiep-song']);
  });

  it('an FM relay takes its frequency; bad values are reported on their fields', () => {
    const ok = parseProgramme(form(live({ kind: 'fm', fm: '98.9', fallbackFm: '' })), ctx);
    expect('body' in ok && ok.body.items[0]).toMatchObject({ live: { kind: 'fm', frequencyMHz: 98.9 } });
    const bad = parseProgramme(
      form(live({ kind: 'fm', fm: '120', title: '', minutes: '0', fallbackFm: 'x' })),
      ctx,
    );
    expect('errors' in bad && Object.keys(bad.errors).sort()).toEqual([
      'fallbackFm',
      'liveFm',
      'liveMinutes',
      'liveTitle',
    ]);
    const url = parseProgramme(form(live({ url: 'ftp://x' })), ctx);
    expect('errors' in url && url.errors.liveUrl).toBeTruthy();
  });

  it('without a relay and without items the form still asks for an item', () => {
    const r = parseProgramme(form(live({ kind: '' })), ctx);
    expect('errors' in r && r.errors.items).toEqual({ key: 'err.pickOne' });
  });
});
