/** The device form's checks (pure): what is sent to the API, or which field is wrong. */
import { describe, expect, it } from 'vitest';
import { editValues, parseDeviceEdit } from '../../../fleet-server/src/http/ui/pages/device-edit.js';

const groups = new Set(['cum-cho', 'truong-hoc']);

describe('device form', () => {
  it('sends the name, the groups and the location (a decimal comma accepted)', () => {
    const r = parseDeviceEdit(
      { name: ' Cụm loa chợ ', lat: '21,69760', lon: '105.3987', groups: ['cum-cho'] },
      groups,
    );
    expect(r.errors).toEqual({});
    expect(r.body).toEqual({
      name: 'Cụm loa chợ',
      groups: ['cum-cho'],
      location: { lat: 21.6976, lon: 105.3987 },
    });
  });

  it('leaves the location out when both coordinates are empty, and sends no group as none', () => {
    expect(parseDeviceEdit({ name: 'A', lat: '', lon: '' }, groups).body).toEqual({ name: 'A', groups: [] });
  });

  it.each([
    [{ name: '', lat: '', lon: '' }, ['name']],
    [{ name: 'A', lat: '95', lon: '105' }, ['lat']],
    [{ name: 'A', lat: '21.7', lon: '' }, ['lon']],
    [{ name: 'A', lat: 'abc', lon: '200' }, ['lat', 'lon']],
    [{ name: 'A', lat: '', lon: '', groups: ['khong-co'] }, ['groups']],
    [{ name: 'x'.repeat(201), lat: '', lon: '' }, ['name']],
  ])('refuses %j on %j, and sends nothing', (form, fields) => {
    const r = parseDeviceEdit(form, groups);
    expect(Object.keys(r.errors).sort()).toEqual(fields);
    expect(r.body).toBeUndefined();
  });
});

describe("a station's loudspeaker zones in the device form", () => {
  const base = { name: 'Cụm loa chợ', lat: '', lon: '' };

  it('names the zones the station reports, forgets a cleared one, and adds one with an id made from its name', () => {
    const r = parseDeviceEdit(
      { ...base, 'zone:thon-1': 'Thôn 1', 'zone:cho': '', newZoneName: 'Trường học Tân Trào', newZoneId: '' },
      groups,
      true,
    );
    expect(r.errors).toEqual({});
    expect(r.body?.zones).toEqual([
      { id: 'thon-1', name: 'Thôn 1' },
      { id: 'truong-hoc-tan-trao', name: 'Trường học Tân Trào' },
    ]);
  });

  it("leaves a noticeboard's zones out of the body", () => {
    const r = parseDeviceEdit({ ...base, 'zone:a': 'A' }, groups, false);
    expect(r.body).not.toHaveProperty('zones');
  });

  it.each([
    [{ newZoneName: '', newZoneId: 'khu-a' }, ['newZoneName']],
    [{ newZoneName: 'Khu A', newZoneId: 'khu a/b' }, ['newZoneId']],
    [{ 'zone:cho': 'Chợ', newZoneName: 'Chợ mới', newZoneId: 'cho' }, ['newZoneId']],
    [{ 'zone:cho': 'x'.repeat(101) }, ['zones']],
    [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`zone:z${i}`, `Vùng ${i}`])), ['zones']],
  ])('refuses %j on %j', (zones, fields) => {
    const r = parseDeviceEdit({ ...base, ...zones }, groups, true);
    expect(Object.keys(r.errors).sort()).toEqual(fields);
    expect(r.body).toBeUndefined();
  });

  it('lists the stored zones first, then the ids the relays report without a name', () => {
    const d = {
      id: 'd1',
      unit: '08/02500',
      kind: 'station',
      name: 'Cụm loa 1',
      status: 'active',
      publicKey: 'x',
      keyId: 'k',
      mqttPasswordHash: 'h',
      groups: [],
      hardware: {},
      zones: [{ id: 'cho', name: 'Chợ' }],
      enrolledAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    } as const;
    expect(editValues({ ...d, groups: [], zones: [...d.zones] }, ['thon-1', 'cho']).zones).toEqual([
      { id: 'cho', name: 'Chợ' },
      { id: 'thon-1', name: '' },
    ]);
  });
});
