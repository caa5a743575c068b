/**
 * CAP 1.2 parsing and mapping (pure): the OASIS specification's own examples and Vietnamese
 * alert/update/cancel samples parse; malformed XML, an entity bomb, bad dates, bad geometry and
 * wrong enumerations are refused with stable codes; areas map to units by geocode table, official
 * code, polygon vs unit centroid and name; priorities follow the province's table.
 */
import { readFileSync } from 'node:fs';
import { isLoaError } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { decideIntake } from '../../fleet-server/src/domain/cap/intake.js';
import {
  type CapConfigInput,
  DEFAULT_CAP_CONFIG,
  mapArea,
  minimalCover,
  parseCapConfig,
  planAlert,
  priorityFor,
  type UnitInfo,
} from '../../fleet-server/src/domain/cap/mapping.js';
import { type CapAlert, parseCap } from '../../fleet-server/src/domain/cap/parse.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/cap/${name}`, import.meta.url), 'utf8');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isLoaError(e)) return e.code;
    throw e;
  }
  throw new Error('expected an error');
}

const UNITS: UnitInfo[] = [
  { path: '08', code: '08', name: 'Tỉnh Tuyên Quang' },
  { path: '08/02500', code: '02500', name: 'Xã Minh Quang' },
  { path: '08/02600', code: '02600', name: 'Xã Lâm Bình' },
  { path: '08/02700', code: '02700', name: 'Phường Nông Tiến' },
];
const cfg = (extra: Partial<CapConfigInput> = {}) =>
  parseCapConfig({ ...DEFAULT_CAP_CONFIG, centroids: { '08/02600': [22.5, 105.3] }, ...extra });

describe('CAP 1.2 parse', () => {
  it('parses the OASIS examples: thunderstorm, homeland security, earthquake update, multilingual Amber alert', () => {
    const t = parseCap(fixture('oasis-thunderstorm.xml'));
    expect(t).toMatchObject({
      identifier: 'KSTO1055887203',
      sender: 'KSTO@NWS.NOAA.GOV',
      msgType: 'Alert',
      status: 'Actual',
    });
    const info = t.infos[0];
    expect(info).toMatchObject({
      event: 'SEVERE THUNDERSTORM',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Observed',
    });
    expect(info?.expires).toBe('2003-06-17T16:00:00-07:00');
    expect(info?.areas[0]?.polygons[0]).toHaveLength(5);
    expect(info?.areas[0]?.geocodes.map((g) => g.value)).toEqual(['006109', '006009', '006003']);

    const h = parseCap(fixture('oasis-homeland.xml'));
    expect(h.infos[0]?.parameters).toEqual([{ valueName: 'HSAS', value: 'ORANGE' }]);

    const q = parseCap(fixture('oasis-earthquake-update.xml'));
    expect(q.msgType).toBe('Update');
    expect(q.references).toEqual([
      { sender: 'trinet@caltech.edu', identifier: 'TRI13970876.1', sent: '2003-06-11T20:30:00-07:00' },
    ]);
    expect(q.infos[0]?.areas[0]?.circles[0]).toEqual({ center: [32.9525, -115.5527], radiusKm: 0 });

    const a = parseCap(fixture('oasis-amber.xml'));
    expect(a.infos.map((i) => i.language)).toEqual(['en-US', 'es-US']);
    expect(a.infos[1]?.event).toBe('Abducción de Niño');
  });

  it('parses Vietnamese alert, update and cancel; predefined entities are decoded', () => {
    const a = parseCap(fixture('vn-flood-alert.xml'));
    expect(a.infos[0]?.description).toContain('dâng cao & nguy cơ');
    expect(a.infos[0]?.categories).toEqual(['Met', 'Geo']);
    const u = parseCap(fixture('vn-flood-update.xml'));
    expect(u.references[0]?.identifier).toBe('KTTV-TQ-2026-0612-01');
    expect(u.infos[0]?.areas).toHaveLength(2);
    const c = parseCap(fixture('vn-flood-cancel.xml'));
    expect(c.msgType).toBe('Cancel');
  });

  it('refuses an XML bomb (entity expansion) before parsing, and any DOCTYPE', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>`;
    expect(codeOf(() => parseCap(lol))).toBe('CAP_DTD_FORBIDDEN');
    const external = `<?xml version="1.0"?><!DOCTYPE alert SYSTEM "file:///etc/passwd"><alert/>`;
    expect(codeOf(() => parseCap(external))).toBe('CAP_DTD_FORBIDDEN');
    // an undeclared entity is left as text, never expanded
    const xml = fixture('vn-flood-alert.xml').replace('Lũ quét, sạt lở đất', '&custom;');
    expect(codeOf(() => parseCap(xml))).toBe('CAP_MALFORMED');
  });

  it('refuses malformed XML, another root, another namespace, oversize documents', () => {
    expect(
      codeOf(() => parseCap('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</alert>')),
    ).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap('not xml at all'))).toBe('CAP_MALFORMED');
    expect(codeOf(() => parseCap('<feed xmlns="http://www.w3.org/2005/Atom"></feed>'))).toBe('CAP_NOT_CAP');
    const v11 = fixture('oasis-thunderstorm.xml').replace('cap:1.2', 'cap:1.1');
    expect(codeOf(() => parseCap(v11))).toBe('CAP_NOT_CAP');
    expect(codeOf(() => parseCap(`<a>${'x'.repeat(300_000)}</a>`))).toBe('CAP_TOO_LARGE');
  });

  it('refuses bad dates: "Z", no zone, impossible calendar days, in references too', () => {
    const base = fixture('vn-flood-alert.xml');
    expect(codeOf(() => parseCap(base.replace('2026-06-12T05:30:00+07:00', '2026-06-12T05:30:00Z')))).toBe(
      'CAP_BAD_DATE',
    );
    expect(codeOf(() => parseCap(base.replace('2026-06-12T05:30:00+07:00', '2026-06-12 05:30')))).toBe(
      'CAP_BAD_DATE',
    );
    expect(
      codeOf(() => parseCap(base.replace('2026-06-12T17:30:00+07:00', '2026-02-30T17:30:00+07:00'))),
    ).toBe('CAP_BAD_DATE');
    const upd = fixture('vn-flood-update.xml').replace(',2026-06-12T05:30:00+07:00', ',yesterday');
    expect(codeOf(() => parseCap(upd))).toBe('CAP_BAD_DATE');
  });

  it('refuses missing required fields, bad enumerations, bad geometry, an update without references', () => {
    const base = fixture('vn-flood-alert.xml');
    expect(codeOf(() => parseCap(base.replace('<sender>dai-kttv-tuyenquang@kttv.gov.vn</sender>', '')))).toBe(
      'CAP_FIELD_MISSING',
    );
    expect(
      codeOf(() => parseCap(base.replace('<severity>Severe</severity>', '<severity>Huge</severity>'))),
    ).toBe('CAP_FIELD_INVALID');
    expect(
      codeOf(() => parseCap(base.replace('<msgType>Alert</msgType>', '<msgType>Update</msgType>'))),
    ).toBe('CAP_FIELD_MISSING');
    const open = fixture('vn-flood-update.xml').replace('22.60,105.20 22.40,105.20', '22.60,105.20');
    expect(codeOf(() => parseCap(open))).toBe('CAP_BAD_GEOMETRY');
    const far = fixture('vn-flood-update.xml').replace(
      '22.40,105.20 22.40,105.40',
      '122.40,105.20 22.40,105.40',
    );
    expect(codeOf(() => parseCap(far))).toBe('CAP_BAD_GEOMETRY');
  });
});

describe('CAP mapping to units and priorities', () => {
  const alert = () => parseCap(fixture('vn-flood-alert.xml'));

  it('maps by geocode table first, then official code, then polygon vs centroid, then name', () => {
    const c = cfg({ geocodes: { 'VN-XA': { '2500': '08/02500' } } });
    const area = (xml: Partial<CapAlert['infos'][0]['areas'][0]>) => ({
      areaDesc: '',
      polygons: [],
      circles: [],
      geocodes: [],
      ...xml,
    });
    expect(mapArea(area({ geocodes: [{ valueName: 'VN-XA', value: '2500' }] }), c, UNITS)).toMatchObject({
      units: ['08/02500'],
      by: 'geocode',
    });
    expect(mapArea(area({ geocodes: [{ valueName: 'VN-DVHC', value: '02700' }] }), c, UNITS)).toMatchObject({
      units: ['08/02700'],
      by: 'official-code',
    });
    const poly: [number, number][] = [
      [22.4, 105.2],
      [22.4, 105.4],
      [22.6, 105.4],
      [22.6, 105.2],
      [22.4, 105.2],
    ];
    expect(mapArea(area({ polygons: [poly] }), c, UNITS)).toMatchObject({
      units: ['08/02600'],
      by: 'polygon',
    });
    expect(mapArea(area({ circles: [{ center: [22.51, 105.31], radiusKm: 5 }] }), c, UNITS)).toMatchObject({
      units: ['08/02600'],
      by: 'circle',
    });
    expect(mapArea(area({ areaDesc: 'phường  Nông Tiến; xã khác' }), c, UNITS)).toMatchObject({
      units: ['08/02700'],
      by: 'name',
    });
    expect(mapArea(area({ areaDesc: 'Nông Tiến' }), cfg({ matchNames: false }), UNITS)).toMatchObject({
      units: [],
      by: null,
    });
  });

  it('an unknown area refuses the whole alert (nothing half-sent)', () => {
    const t = parseCap(fixture('oasis-thunderstorm.xml'));
    try {
      planAlert(t, cfg(), UNITS, Date.parse('2003-06-17T15:00:00-07:00'));
      throw new Error('expected CAP_AREA_UNKNOWN');
    } catch (e) {
      expect(isLoaError(e) && e.code).toBe('CAP_AREA_UNKNOWN');
    }
  });

  it('the Decision 18/2021 risk level and severity/urgency/certainty give the priority by the table', () => {
    const c = cfg();
    const info = { severity: 'Minor', urgency: 'Future', certainty: 'Possible' } as const;
    expect(priorityFor({ ...info, parameters: [{ valueName: 'riskLevel', value: '4' }] }, c)).toMatchObject({
      priority: 'emergency',
      riskLevel: 4,
    });
    expect(priorityFor({ ...info, parameters: [{ valueName: 'riskLevel', value: '2' }] }, c)).toMatchObject({
      priority: 'priority',
      riskLevel: 2,
    });
    expect(priorityFor({ ...info, parameters: [] }, c).priority).toBe('normal');
    expect(
      priorityFor({ severity: 'Extreme', urgency: 'Immediate', certainty: 'Observed', parameters: [] }, c)
        .priority,
    ).toBe('emergency');
    expect(
      priorityFor({ severity: 'Moderate', urgency: 'Immediate', certainty: 'Observed', parameters: [] }, c)
        .priority,
    ).toBe('priority');
    expect(
      codeOf(() => priorityFor({ ...info, parameters: [{ valueName: 'riskLevel', value: '7' }] }, c)),
    ).toBe('CAP_FIELD_INVALID');
    // the province edits the table: level 2 is an emergency in this one
    const strict = cfg({ priorityRules: [{ riskLevelAtLeast: 2, priority: 'emergency' }] });
    expect(
      priorityFor({ ...info, parameters: [{ valueName: 'riskLevel', value: '2' }] }, strict).priority,
    ).toBe('emergency');
    expect(codeOf(() => parseCapConfig({ priorityRules: [{ priority: 'loud' }] }))).toBe(
      'CAP_CONFIG_INVALID',
    );
  });

  it('plans an alert: units, priority, Vietnamese text, validity from <expires>', () => {
    const plan = planAlert(alert(), cfg(), UNITS, Date.parse('2026-06-12T05:31:00+07:00'));
    expect(plan).toMatchObject({
      units: ['08/02500'],
      priority: 'emergency',
      riskLevel: 4,
      lang: 'vi',
      validMinutes: 719,
    });
    expect(plan.text).toContain('Bà con vùng trũng');
    expect(minimalCover(['08/02500', '08', '08/02600'])).toEqual(['08']);
  });

  it('decides: draft unless the auto-send policy lists the sender and severity; duplicates; tests ignored; unknown references refused', () => {
    const now = Date.parse('2026-06-12T05:31:00+07:00');
    const a = alert();
    const none = () => undefined;
    expect(decideIntake(a, none, cfg(), UNITS, now)).toMatchObject({ kind: 'new', mode: 'draft' });
    const auto = cfg({ autoSend: [{ sender: a.sender, severities: ['Severe', 'Extreme'] }] });
    expect(decideIntake(a, none, auto, UNITS, now)).toMatchObject({ kind: 'new', mode: 'send' });
    const other = cfg({ autoSend: [{ sender: 'someone@else', severities: ['Severe'] }] });
    expect(decideIntake(a, none, other, UNITS, now)).toMatchObject({ kind: 'new', mode: 'draft' });
    expect(decideIntake({ ...a, status: 'Exercise' }, none, auto, UNITS, now).kind).toBe('ignore');
    // past its <expires> (17:30 that day): recorded, never broadcast
    expect(decideIntake(a, none, auto, UNITS, Date.parse('2026-06-12T17:31:00+07:00'))).toMatchObject({
      kind: 'ignore',
      reason: expect.stringContaining('hết hạn'),
    });
    const rec = { key: `${a.sender},${a.identifier}`, state: 'sent' } as never;
    expect(
      decideIntake(a, (k) => (k === `${a.sender},${a.identifier}` ? rec : undefined), auto, UNITS, now).kind,
    ).toBe('duplicate');
    const cancel = parseCap(fixture('vn-flood-cancel.xml'));
    expect(codeOf(() => decideIntake(cancel, none, auto, UNITS, now))).toBe('CAP_REFERENCE_UNKNOWN');
  });
});
