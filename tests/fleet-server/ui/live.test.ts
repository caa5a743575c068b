import type { Timers } from '@loa/protocol';
import { describe, expect, it } from 'vitest';
import { type Dirty, LiveHub, type LiveMessage } from '../../../fleet-server/src/http/ui/live.js';

/** Manual timer: the test decides when a tick happens. */
function manualTimers(): Timers & { tick: () => void; active: number } {
  let fn: (() => void) | undefined;
  const t = {
    active: 0,
    setTimeout(f: () => void) {
      fn = f;
      t.active = 1;
      return 1;
    },
    clearTimeout() {
      fn = undefined;
      t.active = 0;
    },
    tick() {
      const f = fn;
      fn = undefined;
      t.active = 0;
      f?.();
    },
  };
  return t;
}

describe('LiveHub batching', () => {
  it('coalesces many reports of many devices into one message per connection per tick', async () => {
    const timers = manualTimers();
    const hub = new LiveHub({ timers });
    hub.start();
    const got: LiveMessage[] = [];
    const renders: Dirty[] = [];
    hub.connect(
      {
        wantsDevice: () => true,
        wantsTopic: () => false,
        render: (d) => {
          renders.push({ devices: new Set(d.devices), topics: new Set(d.topics) });
          return Object.fromEntries([...d.devices].map((id) => [`dev:${id}:state`, { t: 'online' }]));
        },
      },
      (json) => got.push(JSON.parse(json) as LiveMessage),
    );
    // 10,000 devices, each reporting 3 times within the interval.
    for (let r = 0; r < 3; r++) for (let i = 0; i < 10_000; i++) hub.markDevice(`d${i}`);
    await hub.flush();
    expect(got).toHaveLength(1);
    expect(Object.keys(got[0]?.set ?? {})).toHaveLength(10_000);
    expect(renders[0]?.devices.size).toBe(10_000);
    // Nothing new: no message.
    await hub.flush();
    expect(got).toHaveLength(1);
    hub.markDevice('d7');
    await hub.flush();
    expect(got).toHaveLength(2);
    expect(got[1]?.seq).toBe(2);
    expect(got[1]?.set).toEqual({ 'dev:d7:state': { t: 'online' } });
    const s = hub.stats();
    expect(s.marks).toBe(30_001);
    expect(s.messages).toBe(2);
    hub.stop();
    expect(timers.active).toBe(0);
  });

  it('routes marks only to views that want them, and stops after disconnect', async () => {
    const hub = new LiveHub({ timers: manualTimers() });
    const a: string[] = [];
    const b: string[] = [];
    hub.connect(
      {
        wantsDevice: (id) => id.startsWith('a'),
        wantsTopic: () => false,
        render: (d) => ({ x: { t: [...d.devices].join() } }),
      },
      (j) => a.push(j),
    );
    const off = hub.connect(
      {
        wantsDevice: () => false,
        wantsTopic: (t) => t === 'alerts',
        render: (d) => ({ y: { t: [...d.topics].join() } }),
      },
      (j) => b.push(j),
    );
    hub.markDevice('a1');
    hub.markDevice('b1');
    hub.markTopic('alerts');
    await hub.flush();
    expect(a.map((j) => JSON.parse(j).set.x.t)).toEqual(['a1']);
    expect(b.map((j) => JSON.parse(j).set.y.t)).toEqual(['alerts']);
    off();
    hub.markTopic('alerts');
    await hub.flush();
    expect(b).toHaveLength(1);
  });

  it('counts a failing render and keeps serving other connections', async () => {
    const errors: unknown[] = [];
    const hub = new LiveHub({ timers: manualTimers(), onError: (e) => errors.push(e) });
    const ok: string[] = [];
    hub.connect(
      {
        wantsDevice: () => true,
        wantsTopic: () => false,
        render: () => {
          throw new Error('boom');
        },
      },
      () => {},
    );
    hub.connect(
      { wantsDevice: () => true, wantsTopic: () => false, render: () => ({ k: { t: 'v' } }) },
      (j) => ok.push(j),
    );
    hub.markDevice('x');
    await hub.flush();
    expect(ok).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(hub.stats().renderErrors).toBe(1);
  });
});
