/**
 * The example flows in the real Node-RED runtime, started the way `npm run flows` starts it
 * (flows/bin/run-flows.js: user directory under DATA_DIR, example flows installed, the API token
 * encrypted with LOA_FLOWS_SECRET), against a real fleet server on 127.0.0.1 and local receivers:
 *   - feed → bulletins: new items become drafts once, and not again after a restart;
 *   - CAP: alert → draft; Update with the auto-send policy → emergency sent to the mapped units;
 *     Cancel → stopped; an entity bomb and an unknown area refused, nothing stored;
 *   - device offline → email on a local SMTP server and a templated HTTP message;
 *   - nightly statistics → JSON and CSV POSTed upstream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceSubscriptions } from '@loa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../fleet-server/publish/harness.js';
import { capSample, type Loa, require, startLoa } from './loa-fixture.js';

const { SMTPServer } = require('smtp-server') as {
  SMTPServer: new (
    o: Record<string, unknown>,
  ) => {
    listen(port: number, host: string, cb: () => void): void;
    close(cb: () => void): void;
    server: Server;
  };
};

const fixture = capSample;
/** A current alert for a commune no table, code or name knows. */
const unknownArea = () =>
  fixture('vn-flood-alert.xml')
    .replace('<areaDesc>Xã Minh Quang</areaDesc>', '<areaDesc>Xã Không Có</areaDesc>')
    .replace('<value>02500</value>', '<value>99999</value>')
    .replace(/0612-01/g, '0612-51');
const ROOT = new URL('../../', import.meta.url).pathname;

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const rss = (items: { id: string; title: string; text: string }[]) =>
  `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Cổng thông tin tỉnh</title>${items
    .map(
      (i) =>
        `<item><guid isPermaLink="false">${i.id}</guid><title>${i.title}</title><description><![CDATA[<p>${i.text}</p>]]></description></item>`,
    )
    .join('')}</channel></rss>`;

let loa: Loa;
let dataDir: string;
let nrPort: number;
let child: ChildProcess | undefined;
let log = '';
const feedItems = [
  { id: 'tin-1', title: 'Lịch tiêm chủng', text: 'Trạm y tế xã tiêm chủng mở rộng vào sáng thứ Bảy.' },
  { id: 'tin-2', title: 'Phòng chống cháy rừng', text: 'Bà con không đốt nương rẫy trong mùa khô.' },
];
let feedRequests = 0;
/** While true the feed accepts requests and never answers (a hung upstream). */
let feedHangs = false;
const hung: import('node:http').ServerResponse[] = [];
const upstream: Received[] = [];
const mails: { from: string; to: string[]; data: string }[] = [];
let feed: Server;
let receiver: Server;
let smtp: InstanceType<typeof SMTPServer>;
let env: NodeJS.ProcessEnv;

async function startNodeRed(): Promise<void> {
  log = '';
  const c = spawn(process.execPath, [join(ROOT, 'flows/bin/run-flows.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  c.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  c.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  await eventually(() => log.includes('Started flows') || c.exitCode !== null, 60_000, 50);
  if (c.exitCode !== null) throw new Error(`Node-RED exited: ${log}`);
  await eventually(() => log.includes('đã kết nối luồng sự kiện'), 20_000, 50);
}

async function stopNodeRed(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
  child = undefined;
}

const nr = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${nrPort}${path}`, init);
const feedBundles = async () =>
  (await loa.h.server.deps.store.bundles.list((b) => b.channel === 'nguon-tin')).sort(
    (a, b) => a.version - b.version,
  );

beforeAll(async () => {
  loa = await startLoa({ offlineMinutes: 1 });
  dataDir = await mkdtemp(join(tmpdir(), 'loa-flows-'));
  feed = createServer((_req, res) => {
    feedRequests++;
    if (feedHangs) {
      hung.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' });
    res.end(rss(feedItems));
  });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      upstream.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(
      stream: NodeJS.ReadableStream,
      session: { envelope: { mailFrom: { address: string }; rcptTo: { address: string }[] } },
      cb: () => void,
    ) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  const smtpPort = await new Promise<number>((r) =>
    smtp.listen(0, '127.0.0.1', () => r((smtp.server.address() as AddressInfo).port)),
  );
  const feedPort = await listen(feed);
  const receiverPort = await listen(receiver);
  nrPort = await freePort();
  env = {
    PATH: process.env.PATH,
    HOME: dataDir,
    LOA_URL: loa.h.server.url,
    LOA_TOKEN: loa.admin.token,
    LOA_FLOWS_SECRET: 'kiem-thu-bi-mat-rat-dai-0123456789',
    LOA_FLOWS_PORT: String(nrPort),
    LOA_FLOWS_LOG: 'info',
    DATA_DIR: dataDir,
    FEED_URL: `http://127.0.0.1:${feedPort}/rss.xml`,
    FEED_UNIT: '08/02500',
    FEED_TIMEOUT_MS: '1500',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
    NOTIFY_EMAIL_TO: 'truc-ban@tuyenquang.gov.vn',
    NOTIFY_EMAIL_FROM: 'loa@tuyenquang.gov.vn',
    NOTIFY_HTTP_URL: `http://127.0.0.1:${receiverPort}/bot123/sendMessage`,
    NOTIFY_HTTP_TEMPLATE: '{"chat_id":"-100200300","text":"{{text}}"}',
    STATS_UPSTREAM_URL: `http://127.0.0.1:${receiverPort}/thong-ke`,
    STATS_UPSTREAM_TOKEN: 'upstream-secret',
  };
  await startNodeRed();
}, 120_000);

afterAll(async () => {
  await stopNodeRed();
  await new Promise((r) => feed?.close(r));
  await new Promise((r) => receiver?.close(r));
  await new Promise<void>((r) => (smtp ? smtp.close(r) : r()));
  await loa?.h.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm run flows', () => {
  it('keeps the API token encrypted with LOA_FLOWS_SECRET, never in the flow file', async () => {
    const flows = await readFile(join(dataDir, 'node-red', 'flows.json'), 'utf8');
    const creds = await readFile(join(dataDir, 'node-red', 'flows_cred.json'), 'utf8');
    expect(flows).not.toContain(loa.admin.token);
    expect(creds).not.toContain(loa.admin.token);
    expect(JSON.parse(creds)).toHaveProperty('$');
  });
});

describe('example flow 1: feed → bulletins submitted for approval', () => {
  it('turns each new item into a bulletin once', async () => {
    const bundles = await eventually(async () => {
      const b = await feedBundles();
      return b.length >= 2 && b.every((x) => x.state === 'submitted') ? b : null;
    }, 30_000);
    expect(bundles).toHaveLength(2);
    expect(bundles.map((b) => b.manifest.description).sort()).toEqual([
      'Lịch tiêm chủng',
      'Phòng chống cháy rừng',
    ]);
    expect(bundles.every((b) => b.units.join() === '08/02500')).toBe(true);
    // spoken by the server for the stations, and kept as text for noticeboards
    expect(bundles.map((b) => b.manifest.items.map((i) => i.kind).join('+'))).toEqual([
      'audio+text',
      'audio+text',
    ]);
  });
});

describe('example flow 1: a feed that hangs', () => {
  it('times out with the error in the log, and nothing is published', async () => {
    feedHangs = true;
    try {
      const before = feedRequests;
      const logBefore = log.length;
      const res = await nr('/inject/feed-tick', { method: 'POST' });
      expect(res.status).toBe(200);
      await eventually(() => feedRequests > before, 10_000);
      // the catch path prints the failed message to the runtime log (journald in production)
      const seen = await eventually(() => {
        const tail = log.slice(logBefore);
        return tail.includes('[debug:Lỗi nguồn tin]') && tail.includes('no response from server')
          ? tail
          : null;
      }, 20_000);
      expect(seen).toContain("name: 'Đọc nguồn tin'");
      expect(await feedBundles()).toHaveLength(2);
    } finally {
      feedHangs = false;
      for (const r of hung.splice(0)) r.destroy();
    }
  }, 30_000);
});

describe('example flow 2: CAP alerts', () => {
  it('an alert becomes an emergency draft with the mapped unit and priority', async () => {
    const res = await nr('/loa/cap', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: fixture('vn-flood-alert.xml'),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      outcome: string;
      record: { units: string[]; priority: string; riskLevel: number };
    };
    expect(body).toMatchObject({
      outcome: 'draft',
      record: { units: ['08/02500'], priority: 'emergency', riskLevel: 4 },
    });
    expect(loa.capRecords()[0]).toMatchObject({ identifier: 'KTTV-TQ-2026-0612-01', state: 'draft' });
  });

  it('refuses an entity bomb and an unknown area with clear codes; nothing stored', async () => {
    const before = loa.capRecords().length;
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>`;
    let res = await nr('/loa/cap', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: bomb,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('CAP_DTD_FORBIDDEN');
    res = await nr('/loa/cap', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: unknownArea(),
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain('CAP_AREA_UNKNOWN');
    expect(loa.capRecords().length).toBe(before);
  });

  it('with the province allowing this sender, an Update is broadcast to the mapped units; a Cancel recalls it', async () => {
    const cfg = await loa.h.api(loa.admin, 'PUT', '/api/v1/cap/config', {
      priorityRules: [{ riskLevelAtLeast: 3, priority: 'emergency' }],
      centroids: { '08/02600': [22.5, 105.3] },
      autoSend: [{ sender: 'dai-kttv-tuyenquang@kttv.gov.vn', severities: ['Extreme', 'Severe'] }],
    });
    expect(cfg.status).toBe(200);
    const up = await nr('/loa/cap', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: fixture('vn-flood-update.xml'),
    });
    const ub = (await up.json()) as {
      outcome: string;
      record: { units: string[]; priority: string; emergencies: string[] };
    };
    expect(up.status).toBe(201);
    expect(ub.outcome).toBe('sent');
    expect(ub.record.units).toEqual(['08/02500', '08/02600']);
    expect(ub.record.priority).toBe('emergency');
    for (const id of ub.record.emergencies) {
      const b = await loa.h.server.deps.store.bundles.get(id);
      expect(b).toMatchObject({ emergency: true, state: 'published' });
      expect(b?.manifest.items[0]?.priority).toBe('emergency');
    }
    expect(
      (await Promise.all(ub.record.emergencies.map((id) => loa.h.server.deps.store.bundles.get(id)))).map(
        (b) => b?.units[0],
      ),
    ).toEqual(['08/02500', '08/02600']);
    expect(loa.capRecords().find((r) => r.identifier === 'KTTV-TQ-2026-0612-01')?.state).toBe('superseded');

    const cancel = await nr('/loa/cap', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: fixture('vn-flood-cancel.xml'),
    });
    const cb = (await cancel.json()) as {
      outcome: string;
      closed: { identifier: string; state: string; stopped: string[] }[];
    };
    expect(cancel.status).toBe(201);
    expect(cb.outcome).toBe('cancelled');
    expect(cb.closed).toEqual([
      expect.objectContaining({
        identifier: 'KTTV-TQ-2026-0612-02',
        state: 'cancelled',
        stopped: ['08/02500', '08/02600'],
      }),
    ]);
    // the Cancel recalls each emergency it sent (a signed recall, as the caller)
    for (const id of ub.record.emergencies)
      expect(await loa.h.server.deps.store.bundles.get(id)).toMatchObject({ state: 'recalled' });
    const recalls = await loa.h.server.deps.store.audit.query({ action: 'bundle.recall', limit: 100 });
    expect(recalls.map((e) => e.unit).sort()).toEqual(['08/02500', '08/02600']);
  }, 60_000);
});

describe('example flow 3: device offline → email and HTTP message', () => {
  it('sends both when a station has been offline past the threshold', async () => {
    const d = await loa.h.device('st-02500-41', '08/02500');
    const c = await loa.h.connect(d, deviceSubscriptions(d.id, d.unit));
    await c.endAsync(true);
    await eventually(() => loa.h.svc.ingest.liveAll().get(d.id)?.online === false, 10_000);
    loa.h.advance(3 * 60_000);
    await loa.h.svc.alerts.tick();
    const mail = await eventually(() => mails.find((m) => m.data.includes('st-02500-41')), 20_000);
    expect(mail.to).toEqual(['truc-ban@tuyenquang.gov.vn']);
    expect(mail.from).toBe('loa@tuyenquang.gov.vn');
    const msg = await eventually(() => upstream.find((r) => r.path === '/bot123/sendMessage'), 20_000);
    const sent = JSON.parse(msg.body) as { chat_id: string; text: string };
    expect(sent.chat_id).toBe('-100200300');
    expect(sent.text).toContain('st-02500-41');
    expect(sent.text).toContain('mất kết nối');
  }, 40_000);
});

describe('example flow 4: statistics upward', () => {
  it('POSTs the nightly report as JSON and as CSV', async () => {
    const res = await nr('/inject/stats-nightly', { method: 'POST' });
    expect(res.status).toBe(200);
    const posts = await eventually(() => {
      const p = upstream.filter((r) => r.path === '/thong-ke');
      return p.length >= 2 ? p : null;
    }, 20_000);
    const json = posts.find((p) => String(p.headers['content-type']).startsWith('application/json'));
    const csv = posts.find((p) => String(p.headers['content-type']).startsWith('text/csv'));
    expect(json?.headers['x-loa-kind']).toBe('nightly');
    expect(json?.headers.authorization).toBe('Bearer upstream-secret');
    expect(JSON.parse(json?.body ?? '{}')).toHaveProperty('rows');
    expect(csv?.body.split('\n')[0]).toContain(',');
  });
});

describe('example flow 1 after a restart', () => {
  it('posts only the new item, not the ones already sent', async () => {
    await stopNodeRed();
    const polled = feedRequests;
    feedItems.push({ id: 'tin-3', title: 'Họp dân', text: 'Họp dân thôn Nà Mặn lúc 19 giờ tối nay.' });
    await startNodeRed();
    const bundles = await eventually(async () => {
      const b = await feedBundles();
      return b.length >= 3 && b.every((x) => x.state === 'submitted') ? b : null;
    }, 30_000);
    expect(feedRequests).toBeGreaterThan(polled);
    // every item of that poll is handled together: let a duplicate, if any, arrive
    await new Promise((r) => setTimeout(r, 1500));
    expect((await feedBundles()).map((b) => b.manifest.description)).toEqual([
      ...bundles.slice(0, 2).map((b) => b.manifest.description),
      'Họp dân',
    ]);
  }, 90_000);
});
