/**
 * Hostile request bodies: the fleet server (in its own process) receives parallel anonymous
 * chunked bodies (no Content-Length) of 200 MB each to its public JSON routes (login, enrol). Every
 * body cap is enforced while the body streams in, so the server's resident memory must stay near
 * its idle figure. Baseline: the same server's idle RSS, measured in the same run just before.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { startChild } from '../child.js';
import { figure, type Scenario } from '../harness.js';
import { ProcessSampler } from '../proc-sampler.js';
import { round } from '../stats.js';

interface BodyOutcome {
  status: number;
  /** Body bytes the client got onto the socket before the server answered and closed. */
  sent: number;
}

/** Streams up to `total` bytes as a chunked body; resolves when the server answers or closes. */
function hostileBody(port: number, path: string, total: number): Promise<BodyOutcome> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let received = '';
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), sent });
    };
    sock.on('data', (d) => {
      received += d.toString('latin1');
    });
    sock.on('error', finish);
    sock.on('close', finish);
    const pump = () => {
      while (!done && !sock.destroyed && sent < total) {
        sent += chunk.length;
        const ok = sock.write(`${chunk.length.toString(16)}\r\n`) && sock.write(chunk) && sock.write('\r\n');
        if (!ok) {
          sock.once('drain', pump);
          return;
        }
      }
      if (sent >= total && !sock.destroyed) sock.write('0\r\n\r\n');
    };
    sock.on('connect', () => {
      sock.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      pump();
    });
  });
}

export const hostileBodies: Scenario = {
  name: 'hostile-bodies',
  title: 'Server memory under hostile request bodies (parallel 200 MB chunked bodies)',
  budgetMs: { quick: 30_000, full: 90_000 },
  async run(ctx) {
    const parallel = ctx.quick ? 10 : 20;
    const bodyBytes = ctx.quick ? 100 * 1024 * 1024 : 200 * 1024 * 1024;
    const rounds = ctx.quick ? 1 : 3;
    const child = await startChild({
      kind: 'fleet',
      options: { dataDir: join(ctx.tmpDir, 'server'), devices: 0 },
    });
    try {
      const port = child.ready.httpPort as number;
      // idle baseline: the same server, no traffic
      const idle = new ProcessSampler(child.pid, 100);
      idle.start();
      await new Promise((r) => setTimeout(r, 3000));
      const idleProfile = idle.stop();
      ctx.log(`idle RSS ${round(idleProfile.rssPeakMb)} MB`);

      const attack = new ProcessSampler(child.pid, 50);
      attack.start();
      const outcomes: BodyOutcome[] = [];
      const started = performance.now();
      for (let r = 0; r < rounds; r++) {
        const paths = ['/api/v1/auth/login', '/api/v1/enrol'];
        outcomes.push(
          ...(await Promise.all(
            Array.from({ length: parallel }, (_, i) =>
              hostileBody(port, paths[i % paths.length] as string, bodyBytes),
            ),
          )),
        );
      }
      const attackMs = performance.now() - started;
      const profile = attack.stop();
      const refused = outcomes.filter((o) => o.status === 413).length;
      const sentMb = outcomes.reduce((a, o) => a + o.sent, 0) / 1048576;
      ctx.log(
        `${outcomes.length} bodies, ${refused} answered 413, peak RSS ${round(profile.rssPeakMb)} MB, client sent ${round(sentMb)} MB`,
      );
      return {
        figures: [
          figure(
            'hostile-rss-peak',
            `Server RSS peak during ${parallel} parallel ${bodyBytes / 1048576} MB chunked bodies (${rounds} round${rounds > 1 ? 's' : ''})`,
            round(profile.rssPeakMb),
            'MB',
            {
              baseline: {
                label: 'idle RSS of the same server',
                value: round(idleProfile.rssPeakMb),
                unit: 'MB',
              },
              goal: { better: 'lower', ratio: 1.5, text: 'peak ≤ 1.5 × idle' },
            },
          ),
          figure('hostile-refused', 'Hostile bodies answered 413 PAYLOAD_TOO_LARGE', refused, 'bodies', {
            note: `of ${outcomes.length}; the rest were closed without an answer`,
          }),
          figure(
            'hostile-bytes-read',
            'Body bytes the clients got onto the socket before the server closed (all bodies)',
            round(sentMb),
            'MB',
            {
              baseline: {
                label: 'bytes the clients meant to send',
                value: round((outcomes.length * bodyBytes) / 1048576),
                unit: 'MB',
              },
              goal: { better: 'lower', ratio: 0.1, text: '≤ 10% of what was offered' },
            },
          ),
        ],
        notes: [
          `${outcomes.length} anonymous chunked bodies to /api/v1/auth/login and /api/v1/enrol (cap 1 MiB each) in ${round(attackMs / 1000)} s`,
          'the server runs in its own process; RSS read from /proc/<pid>/status every 50 ms',
        ],
      };
    } finally {
      await child.stop();
    }
  },
};
