import { DOWN_KINDS, deviceSubscriptions, deviceTopic, UP_KINDS, unitTopic } from '@loa/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
  checkUpPayload,
  OwnTopics,
} from '../../../fleet-server/src/domain/acl.js';
import { MqttFrameGuard, TokenBucket } from '../../../fleet-server/src/domain/limits.js';

const me = { deviceId: 'st-02500-aaaa', unit: '08/02500' };
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const code = fc.stringMatching(/^[0-9]{2,5}$/);

describe('broker ACL (pure)', () => {
  it('a device may publish exactly its own UP topics', () => {
    for (const k of UP_KINDS)
      expect(authorizeDevicePublish(me, deviceTopic(me.deviceId, k))).toEqual({ ok: true, value: k });
    for (const k of DOWN_KINDS)
      expect(authorizeDevicePublish(me, deviceTopic(me.deviceId, k as never)).ok).toBe(false);
    expect(authorizeDevicePublish(me, unitTopic('08', 'emergency'))).toMatchObject({
      ok: false,
      code: 'ACL_OTHER_UNIT',
    });
    expect(authorizeDevicePublish(me, '$SYS/x')).toMatchObject({ ok: false, code: 'ACL_SYS' });
    expect(authorizeDevicePublish(me, 'other/topic/x/y')).toMatchObject({
      ok: false,
      code: 'ACL_FOREIGN_TOPIC',
    });
    expect(
      authorizeDevicePublish(me, `${deviceTopic(me.deviceId, 'health')}/${'a/'.repeat(20)}b`),
    ).toMatchObject({
      ok: false,
      code: 'ACL_TOO_DEEP',
    });
  });

  it('a memo of own topics gives the same answers and stays within its bound', () => {
    const own = new OwnTopics(2);
    for (const topic of [
      ...UP_KINDS.map((k) => deviceTopic(me.deviceId, k)),
      ...DOWN_KINDS.map((k) => deviceTopic(me.deviceId, k as never)),
      deviceTopic('st-other', 'health'),
      '$SYS/x',
    ])
      expect(authorizeDevicePublish(me, topic, own)).toEqual(authorizeDevicePublish(me, topic));
    // a third device evicts the oldest: answers stay right after eviction
    for (const d of ['a', 'b', 'c'])
      expect(authorizeDevicePublish({ deviceId: d, unit: '08' }, deviceTopic(d, 'proof'), own)).toEqual({
        ok: true,
        value: 'proof',
      });
    expect(authorizeDevicePublish({ deviceId: 'a', unit: '08' }, deviceTopic('b', 'proof'), own).ok).toBe(
      false,
    );
  });

  it('property: never publish nor subscribe under another device id', () => {
    fc.assert(
      fc.property(id, fc.constantFrom(...UP_KINDS, ...DOWN_KINDS), (other, kind) => {
        fc.pre(other !== me.deviceId);
        expect(authorizeDevicePublish(me, `loa/v1/d/${other}/${kind}`).ok).toBe(false);
        expect(authorizeDeviceSubscribe(me, `loa/v1/d/${other}/${kind}`).ok).toBe(false);
      }),
    );
  });

  it('property: unit broadcasts are granted for ancestors of the own unit only', () => {
    fc.assert(
      fc.property(fc.array(code, { minLength: 1, maxLength: 4 }), (segs) => {
        const unit = segs.join('/');
        const ok = authorizeDeviceSubscribe(me, unitTopic(unit, 'emergency')).ok;
        expect(ok).toBe(me.unit === unit || me.unit.startsWith(`${unit}/`));
      }),
    );
  });

  it('grants exactly what the agent subscribes to (protocol deviceSubscriptions), refuses wildcards', () => {
    for (const t of deviceSubscriptions(me.deviceId, me.unit))
      expect(authorizeDeviceSubscribe(me, t).ok, t).toBe(true);
    for (const t of ['#', 'loa/v1/#', `loa/v1/d/${me.deviceId}/+`, 'loa/v1/u/08/+', '$SYS/#'])
      expect(authorizeDeviceSubscribe(me, t).ok, t).toBe(false);
    expect(authorizeDeviceSubscribe(me, deviceTopic(me.deviceId, 'health')).ok).toBe(false);
  });

  it('checks payload size, JSON and schema', () => {
    expect(checkUpPayload('health', Buffer.alloc(70_000))).toMatchObject({
      ok: false,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(checkUpPayload('health', Buffer.from('{'))).toMatchObject({
      ok: false,
      code: 'PAYLOAD_MALFORMED',
    });
    expect(checkUpPayload('presence', Buffer.from('{"state":"online"}'))).toMatchObject({ ok: false });
    const p = { state: 'online', boot: 1, conn: 2, at: '2026-11-26T05:30:00+07:00' };
    expect(checkUpPayload('presence', Buffer.from(JSON.stringify(p)))).toEqual({
      ok: true,
      value: p,
      text: JSON.stringify(p),
    });
  });
});

describe('limits (pure, injected time)', () => {
  it('token bucket allows the burst, then the refill rate', () => {
    const b = new TokenBucket({ ratePerSecond: 10, burst: 5 }, 0);
    expect([1, 2, 3, 4, 5, 6].map(() => b.take(0))).toEqual([true, true, true, true, true, false]);
    expect(b.take(100)).toBe(true); // 0.1 s → one token
    expect(b.take(100)).toBe(false);
    expect(b.take(10_000)).toBe(true);
  });

  it('frame guard follows MQTT packet boundaries across chunks and refuses oversized lengths', () => {
    const g = new MqttFrameGuard(1000);
    // PINGREQ (0xC0 0x00), then a PUBLISH of 300 bytes split over two chunks
    const publish = Buffer.concat([Buffer.from([0x30, 0xac, 0x02]), Buffer.alloc(300, 1)]);
    expect(g.feed(Buffer.concat([Buffer.from([0xc0, 0x00]), publish.subarray(0, 100)]))).toBe(true);
    expect(g.feed(publish.subarray(100))).toBe(true);
    // a header declaring 2 MB is refused as soon as its length bytes arrive
    expect(g.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]))).toBe(false);
    expect(new MqttFrameGuard(1000).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toBe(false);
  });
});
