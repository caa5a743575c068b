/**
 * An answer reaches the citizen's contact through the existing webhook mechanism: a relay (here a
 * local HTTP endpoint) subscribed to `feedback.answered` for the unit receives the signed event
 * with the contact, the question and the answer, and the feedback records the delivery as sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solveChallenge } from '../../../fleet-server/src/services/citizens/challenge.js';
import { type CitizensHarness, startCitizens } from './harness.js';

let c: CitizensHarness;
let relay: Server;
const got: { signature: string; body: { event: string; data: Record<string, string> } }[] = [];

beforeAll(async () => {
  c = await startCitizens();
  relay = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => {
      b += d.toString();
    });
    req.on('end', () => {
      got.push({ signature: String(req.headers['x-loa-signature']), body: JSON.parse(b) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
}, 120_000);

afterAll(async () => {
  relay?.close();
  await c?.h.stop();
});

describe('answer delivery', () => {
  it('sends the answer to a subscribed relay and records it as sent', async () => {
    const admin = await c.h.user('quantri.tinh', 'administrator', ['08']);
    const hook = await c.h.api(admin, 'POST', '/api/v1/webhooks', {
      url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/relay`,
      events: ['feedback.answered'],
    });
    expect(hook.status).toBe(201);
    const U = '08/02515';
    const html = await (await fetch(`${c.h.server.url}/p/${U}/feedback`)).text();
    const token = /name="pow" value="([^"]+)"/.exec(html)?.[1] as string;
    const fd = new FormData();
    for (const [k, v] of Object.entries({
      pow: token,
      nonce: solveChallenge(token),
      topic: 'question',
      text: 'Khi nào xã tổ chức tiêm phòng dại cho chó mèo?',
      contact: '0987 654 321',
    }))
      fd.set(k, v);
    const r = await fetch(`${c.h.server.url}/p/${U}/feedback`, {
      method: 'POST',
      body: fd,
      redirect: 'manual',
    });
    expect(r.status).toBe(303);
    const id = new URL(r.headers.get('location') as string, c.h.server.url).searchParams.get('id') as string;
    const ans = await fetch(`${c.h.server.url}/ui/feedback/${id}/answer`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin.token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ answer: 'Sáng chủ nhật tuần này tại nhà văn hóa thôn.', notify: '1' }),
      redirect: 'manual',
    });
    expect(ans.status).toBe(303);
    const until = Date.now() + 10_000;
    while (got.length === 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    expect(got[0]?.body.event).toBe('feedback.answered');
    expect(got[0]?.body.data).toMatchObject({
      id,
      unit: U,
      contact: '0987 654 321',
      answer: 'Sáng chủ nhật tuần này tại nhà văn hóa thôn.',
    });
    expect(got[0]?.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await c.h.server.deps.store.feedback.get(id)).toMatchObject({
      delivery: 'sent',
      answerPublic: false,
    });
  });
});
