import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, rawPublicKey } from '@loa/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDevice, Session } from '../app/harness.js';

const child = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Started {
  proc: ChildProcess;
  url: string;
  mqttUrl: string;
  bootstrap: { username: string; password: string } | null;
}

function startChild(dir: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--conditions=@loa/source', '--import', 'tsx', child, dir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d) => {
      err += d;
    });
    proc.stdout?.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ proc, ...JSON.parse(out.slice(0, nl)) });
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

function kill9(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

describe('kill -9 of the whole server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-srv-kill9-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every answered enrolment and user, with a readable registry, across kills', async () => {
    let s = await startChild(dir);
    let admin = new Session(s.url);
    expect((await admin.login('admin', s.bootstrap?.password)).status).toBe(200);
    const newPw = 'mật khẩu mới rất dài 2026';
    expect(
      (
        await admin.json('POST', '/api/v1/auth/password', {
          currentPassword: s.bootstrap?.password,
          newPassword: newPw,
        })
      ).status,
    ).toBe(200);
    const enrolled: { deviceId: string; password: string }[] = [];
    for (const round of [0, 1, 2]) {
      const t = await admin.json<{ token: string }>('POST', '/api/v1/enrol-tokens', {
        unit: '08/02503',
        maxUses: 500,
      });
      expect(t.status).toBe(201);
      // enrol as fast as possible and kill the server in the middle of it
      let stop = false;
      const loop = (async () => {
        while (!stop) {
          const r = await fetch(`${s.url}/api/v1/enrol`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              token: t.body.token,
              publicKey: rawPublicKey(generateKeyPair().publicKey).toString('base64'),
            }),
          }).catch(() => null);
          if (!r) break;
          if (r.status === 201) {
            const b = (await r.json().catch(() => null)) as {
              deviceId: string;
              mqtt: { password: string };
            } | null;
            if (b) enrolled.push({ deviceId: b.deviceId, password: b.mqtt.password });
          }
        }
      })();
      const target = enrolled.length + 5 + round * 3;
      while (enrolled.length < target) await new Promise((r) => setTimeout(r, 5));
      await kill9(s.proc);
      stop = true;
      await loop;
      expect(() => JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8'))).not.toThrow();
      s = await startChild(dir);
      expect(s.bootstrap).toBeNull();
      // the password change (answered before the first kill) survived too
      admin = new Session(s.url);
      expect((await admin.login('admin', newPw)).status).toBe(200);
      const list = await admin.json<{ devices: { id: string }[] }>('GET', '/api/v1/devices?limit=20000');
      const ids = new Set(list.body.devices.map((d) => d.id));
      for (const d of enrolled) expect(ids.has(d.deviceId), `answered enrolment ${d.deviceId}`).toBe(true);
    }
    // the credentials handed out before a kill still work after it
    const last = enrolled.at(-1) as { deviceId: string; password: string };
    const c = await connectDevice(s.mqttUrl, last.deviceId, last.password);
    c.end(true);
    await kill9(s.proc);
  }, 120_000);
});
