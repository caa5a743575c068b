import { describe, expect, test } from 'vitest';
import { nextVolumeChange, policyVolumeAt, slotVolume } from '../../../agent/src/domain/volume.js';

const local = (hhmm: string) => Date.parse(`2026-11-26T${hhmm}:00+07:00`);

describe('volume rules', () => {
  const policy = {
    volume: 70,
    volumeWindows: [
      { start: '05:00', end: '07:00', volume: 55 },
      { start: '21:00', end: '05:00', volume: 30 },
    ],
  };
  test('time windows in the station offset, spanning midnight, else the default', () => {
    expect(policyVolumeAt(policy, local('05:30'))).toBe(55);
    expect(policyVolumeAt(policy, local('12:00'))).toBe(70);
    expect(policyVolumeAt(policy, local('23:10'))).toBe(30);
    expect(policyVolumeAt(policy, local('04:59'))).toBe(30);
    expect(policyVolumeAt({ ...policy, utcOffset: '+00:00' }, Date.parse('2026-11-26T05:30:00Z'))).toBe(55);
  });
  test('the signed entry volume wins, then a manual override; emergencies have a floor', () => {
    expect(slotVolume({ policy, at: local('12:00'), entryVolume: 90, override: 20 })).toBe(90);
    expect(slotVolume({ policy, at: local('12:00'), override: 20 })).toBe(20);
    expect(slotVolume({ policy, at: local('23:00'), emergency: true })).toBe(60);
    expect(slotVolume({ policy, at: local('23:00'), entryVolume: 100, emergency: true })).toBe(100);
  });
  test('the next window boundary, in the station offset, across midnight; none without windows', () => {
    expect(nextVolumeChange(policy, local('05:30'))).toBe(local('07:00'));
    expect(nextVolumeChange(policy, local('07:00'))).toBe(local('21:00'));
    expect(nextVolumeChange(policy, local('12:00'))).toBe(local('21:00'));
    expect(nextVolumeChange(policy, local('23:10'))).toBe(local('05:00') + 86_400_000);
    expect(nextVolumeChange(policy, local('04:59'))).toBe(local('05:00'));
    expect(nextVolumeChange({ volume: 70 }, local('12:00'))).toBeUndefined();
  });
});
