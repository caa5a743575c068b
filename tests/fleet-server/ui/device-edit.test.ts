/** The device form's checks (pure): what is sent to the API, or which field is wrong. */
import { describe, expect, it } from 'vitest';
import { parseDeviceEdit } from '../../../fleet-server/src/http/ui/pages/device-edit.js';

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
