/**
 * A commune's programme choices through the API: signed with the person's server-held key,
 * published on the unit's `choices` topic of the real embedded broker, re-sent to a station that
 * reconnects, the two-person rule, and every bad input refused with a stable code, nothing stored.
 */
import {
  type ChoicesNotify,
  deviceSubscriptions,
  deviceTopic,
  type TrustPolicy,
  unitTopic,
  verifyChoices,
} from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChoicesView } from '../../../fleet-server/src/services/choices-service.js';
import {
  type Harness,
  nextMessage,
  startHarness,
  type TestDevice,
  type TestUser,
} from '../publish/harness.js';

const COMMUNE = '08/02500';
const PATH = `/api/v1/units/${COMMUNE}/choices`;
const choices = {
  optOut: [{ channel: 'tinh-thoi-su', entries: ['sang'] }, { categories: ['quang-cao'] }],
  quietHours: [{ start: '21:30', end: '05:30' }],
};

describe('programme choices of a commune', () => {
  let h: Harness;
  let commune: TestUser;
  let province: TestUser;
  let editor: TestUser;
  let unkeyed: TestUser;
  let station: TestDevice;
  const keys: Record<string, string> = {};
  let trust: TrustPolicy;

  beforeAll(async () => {
    h = await startHarness();
    const at = new Date().toISOString();
    await h.server.deps.store.units.putMany(
      [
        ['08', 'Tuyên Quang', 'province', null],
        [COMMUNE, 'Xã Tân Trào', 'commune', '08'],
        ['08/02600', 'Xã Hùng Lợi', 'commune', '08'],
      ].map(([path, name, level, parent]) => ({
        path: path as string,
        code: (path as string).split('/').at(-1) as string,
        name: name as string,
        level: level as string,
        parent: parent as string | null,
        createdAt: at,
        updatedAt: at,
      })),
    );
    commune = await h.user('duyet.tantrao', 'approver', [COMMUNE]);
    province = await h.user('duyet.tinh', 'approver', ['08']);
    editor = await h.user('bientap.tantrao', 'editor', [COMMUNE]);
    unkeyed = await h.user('duyet.chuakhoa', 'approver', [COMMUNE]);
    for (const u of [commune, province])
      keys[u.id] = (await h.api<{ publicKey: string }>(u, 'POST', '/api/v1/signing-keys/me')).body.publicKey;
    trust = await h.installTrust([
      { pub: keys[commune.id] as string, roles: ['content'], scope: [COMMUNE] },
      { pub: keys[province.id] as string, roles: ['content'], scope: ['08'] },
    ]);
    station = await h.device('st-02500-01', COMMUNE);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses bad inputs with stable codes and stores nothing', async () => {
    const cases: [TestUser, string, unknown, number, string][] = [
      [commune, '/api/v1/units/08/02600/choices', choices, 403, 'FORBIDDEN_SCOPE'],
      [province, '/api/v1/units/08/09999/choices', choices, 404, 'UNIT_NOT_FOUND'],
      [editor, PATH, choices, 403, 'FORBIDDEN_ROLE'],
      [unkeyed, PATH, choices, 404, 'SIGNING_KEY_NOT_FOUND'],
      [commune, PATH, { ...choices, optOut: [{ entries: ['sang'] }] }, 400, 'VALIDATION_FAILED'],
      [
        commune,
        PATH,
        { ...choices, quietHours: [{ start: '25:00', end: '05:00' }] },
        400,
        'VALIDATION_FAILED',
      ],
      [commune, PATH, { ...choices, extra: true }, 400, 'VALIDATION_FAILED'],
      [
        commune,
        PATH,
        { ...choices, quietHours: [{ start: '22:00', end: '22:00' }] },
        400,
        'QUIET_HOURS_INVALID',
      ],
    ];
    for (const [u, path, body, status, code] of cases) {
      const r = await h.api<{ error: { code: string } }>(u, 'PUT', path, body);
      expect([r.status, r.body.error?.code], `${u.username} ${path} ${JSON.stringify(body)}`).toEqual([
        status,
        code,
      ]);
    }
    expect(await h.server.deps.store.choices.list()).toEqual([]);
    const view = await h.api<ChoicesView>(commune, 'GET', PATH);
    expect(view.body).toEqual({ unit: COMMUNE });
  });

  it("signs the commune's choices and publishes them to its stations; a reconnecting station gets them again", async () => {
    const c = await h.connect(station, deviceSubscriptions(station.id, COMMUNE));
    const live = nextMessage<ChoicesNotify>(c, unitTopic(COMMUNE, 'choices'));
    const r = await h.api<ChoicesView>(commune, 'PUT', PATH, choices);
    expect(r.status).toBe(200);
    expect(r.body.current).toMatchObject({ version: 1, ...choices, publishedBy: [commune.id] });
    const msg = await live;
    const { choices: doc } = verifyChoices(msg.choices, {
      trust,
      now: new Date(h.now()),
      deviceUnit: COMMUNE,
    });
    expect([doc.unit, doc.version, doc.optOut, doc.quietHours]).toEqual([
      COMMUNE,
      1,
      choices.optOut,
      choices.quietHours,
    ]);
    await c.endAsync(true);

    // the station reconnects: after its first health report the server sends it the unit's choices
    const back = await h.connect(station, deviceSubscriptions(station.id, COMMUNE));
    const resent = nextMessage<ChoicesNotify>(back, deviceTopic(station.id, 'choices'));
    const health = {
      at: new Date().toISOString(),
      seq: 1,
      agentVersion: '0.1.0',
      uptimeS: 5,
      inputs: { mains: true, door: 'closed', ampFault: false },
      relays: { amplifier: false },
      onAir: null,
      bundles: [],
      clock: { trusted: true, source: 'ntp' },
    };
    await back.publishAsync(deviceTopic(station.id, 'health'), JSON.stringify(health), { qos: 1 });
    expect((await resent).choices.version).toBe(1);
    await back.endAsync(true);

    // audit says who published what
    const audit = await h.server.deps.store.audit.query({ action: 'choices.' });
    expect(audit.map((e) => [e.action, e.actor.id, e.unit])).toEqual([
      ['choices.publish', commune.id, COMMUNE],
    ]);
  });

  it('under a two-person rule the choices wait for a second person asking the same, then go out', async () => {
    trust = await h.installTrust(
      [
        { pub: keys[commune.id] as string, roles: ['content'], scope: [COMMUNE] },
        { pub: keys[province.id] as string, roles: ['content'], scope: ['08'] },
      ],
      { content: 2 },
    );
    const next = { optOut: [], quietHours: [{ start: '22:00', end: '05:00' }] };
    const first = await h.api<ChoicesView>(commune, 'PUT', PATH, next);
    expect(first.status).toBe(200);
    expect(first.body.current?.version).toBe(1);
    expect(first.body.pending).toMatchObject({
      version: 2,
      signatures: 1,
      needed: 2,
      requestedBy: [commune.id],
    });
    // the same person again adds nothing
    const same = await h.api<ChoicesView>(commune, 'PUT', PATH, next);
    expect(same.body.pending?.signatures).toBe(1);
    const c = await h.connect(station, deviceSubscriptions(station.id, COMMUNE));
    const live = nextMessage<ChoicesNotify>(c, unitTopic(COMMUNE, 'choices'));
    const second = await h.api<ChoicesView>(province, 'PUT', PATH, next);
    expect(second.body.pending).toBeUndefined();
    expect(second.body.current).toMatchObject({ version: 2, ...next });
    const msg = await live;
    expect(msg.choices.signatures).toHaveLength(2);
    expect(() =>
      verifyChoices(msg.choices, { trust, now: new Date(h.now()), installedVersion: 1 }),
    ).not.toThrow();
    await c.endAsync(true);
  });
});
