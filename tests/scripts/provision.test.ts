/**
 * `loa provision` as a technician runs it for a commune of 60 stations, against a real fleet
 * server on 127.0.0.1: one-time tokens made through the API with the technician's API token, 60
 * provisioning files, and a label sheet PDF rendered to PNG with pdftoppm whose QR codes are
 * decoded (jsQR) back to each station's id, unit and page. A token from a file really enrols.
 * Bad CSV lines are all reported with their line numbers and nothing is made; a run the server
 * refuses halfway revokes the tokens it made.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FleetServer } from '@loa/fleet-server';
import { generateKeyPair, ProvisioningFileSchema, rawPublicKey } from '@loa/protocol';
import jsQRModule from 'jsqr';
import { pino } from 'pino';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelBox, PAGE } from '../../scripts/src/provision/labels-pdf.js';
import { type Province, startProvince } from '../e2e/helpers/province-station.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(repo, 'scripts/src/cli/main.ts');
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
const T = 180_000;
const COMMUNE = '08/02500';
// jsqr is CommonJS with `exports.default`: Node's ESM loader gives the function either way
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ??
  jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function loa(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@loa/source', '--import', tsx, entry, ...args],
      { cwd: dir, env: { ...process.env, LOA_LANG: '' }, timeout: T, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

let dir: string;
let server: FleetServer | undefined;
let province: Province;

const VILLAGES = ['Đồng Mán', 'Cầu Trắng', 'Khuôn Phầy', 'Tân Trào', 'Hợp Thành', 'Lũng Cò'];
interface Row {
  label: string;
  lat: number;
  lon: number;
  profile: string;
}
const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({
  label: `Cụm loa thôn ${VILLAGES[i % VILLAGES.length]} ${Math.floor(i / VILLAGES.length) + 1}`,
  lat: 21.6 + i / 1000,
  lon: 105.4 + i / 1000,
  profile: i % 10 === 9 ? 'pi5-relay-ec25' : 'pi4-relay-ec25',
}));
const csv = (list: Row[], unit = COMMUNE) =>
  `label,unit,latitude,longitude,profile\n${list.map((r) => `${r.label},${unit},${r.lat},${r.lon},${r.profile}`).join('\n')}\n`;

interface TokenView {
  id: string;
  note?: string;
  revokedAt?: string;
  uses: number;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loa-provision-'));
  province = await startProvince({
    dataDir: join(dir, 'server'),
    root: generateKeyPair(),
    commune: COMMUNE,
    logger: log,
    onServer: (s) => {
      server = s;
    },
  });
  writeFileSync(join(dir, 'api-token'), `${province.technician.token}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'stations.csv'), csv(rows));
}, T);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function tokens(): Promise<TokenView[]> {
  try {
    return await province.technician.get<TokenView[]>('/enrol-tokens');
  } catch {
    // a keep-alive socket that the server closed while this process was busy: ask once more
    return province.technician.get<TokenView[]>('/enrol-tokens');
  }
}

describe('loa provision, 60 stations', () => {
  let files: string[] = [];
  it(
    'makes 60 provisioning files with server-made tokens and a label sheet',
    async () => {
      const before = (await tokens()).length;
      const r = await loa([
        'provision',
        '--stations',
        'stations.csv',
        '--server',
        province.server.url,
        '--api-token-file',
        'api-token',
        '--apn',
        'v-internet',
        '--out',
        'cards',
      ]);
      expect(r.stderr).not.toMatch(/LỖI/);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`đã tạo 60 tệp cấp phát trong ${join(dir, 'cards')}`);
      expect(r.stdout).toContain('(8 trang)');
      files = readdirSync(join(dir, 'cards')).filter((f) => f.endsWith('.json'));
      expect(files).toHaveLength(60);
      const parsed = rows.map((row, i) => {
        const id = `st-02500-${row.label
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, '')
          .replace(/đ/g, 'd')
          .replace(/Đ/g, 'D')
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')}`;
        const path = join(dir, 'cards', `${id}.json`);
        expect(existsSync(path), `${i}: ${path}`).toBe(true);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        const p = ProvisioningFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
        expect(p).toMatchObject({
          fleetUrl: province.server.url,
          stationId: id,
          unit: COMMUNE,
          label: row.label,
          profile: row.profile,
          location: { lat: row.lat, lon: row.lon },
          network: { apn: { name: 'v-internet' } },
        });
        return p;
      });
      expect(new Set(parsed.map((p) => p.enrolmentToken)).size).toBe(60);
      const made = (await tokens()).filter((t) => t.note?.startsWith('loa provision: '));
      expect((await tokens()).length - before).toBe(60);
      expect(made.every((t) => !t.revokedAt && t.uses === 0)).toBe(true);
      // a token in a file enrols a device for real
      const key = generateKeyPair();
      const p0 = parsed[0];
      const res = await fetch(`${province.server.url}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: p0?.enrolmentToken,
          publicKey: rawPublicKey(key.publicKey).toString('base64'),
          deviceId: p0?.stationId,
          name: p0?.label,
        }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { deviceId: string }).deviceId).toBe(p0?.stationId);
    },
    T,
  );

  it(
    'prints QR codes that decode back to each station (pdftoppm + jsQR)',
    () => {
      const pdf = join(dir, 'cards', 'labels.pdf');
      const text = execFileSync('pdftotext', [pdf, '-']).toString().replace(/\s+/g, ' ');
      // every full station id is printed
      for (const f of files) expect(text).toContain(f.replace(/\.json$/, ''));
      for (const r of rows) expect(text).toContain(r.label); // Vietnamese diacritics, embedded font
      const dpi = 150;
      execFileSync('pdftoppm', ['-r', String(dpi), '-png', pdf, join(dir, 'page')]);
      const pages = readdirSync(dir)
        .filter((f) => /^page-\d+\.png$/.test(f))
        .sort();
      expect(pages).toHaveLength(8);
      const decodedPages = pages.map((f) => PNG.sync.read(readFileSync(join(dir, f))));
      const first = decodedPages[0] as PNG;
      expect(Math.abs(first.width - PAGE.width * (dpi / 72))).toBeLessThanOrEqual(1);
      const scale = first.width / PAGE.width;
      let decoded = 0;
      rows.forEach((row, i) => {
        const b = labelBox(i);
        const png = decodedPages[b.page] as PNG;
        // the left half of the label holds the QR code
        const x0 = Math.floor(b.x * scale);
        const y0 = Math.floor(b.y * scale);
        const w = Math.floor((b.w / 2) * scale);
        const h = Math.floor(b.h * scale);
        const crop = new Uint8ClampedArray(w * h * 4);
        for (let y = 0; y < h; y++) {
          const from = ((y0 + y) * png.width + x0) * 4;
          crop.set(png.data.subarray(from, from + w * 4), y * w * 4);
        }
        const qr = jsQR(crop, w, h);
        expect(qr, `label ${i}`).not.toBeNull();
        const url = new URL(qr?.data ?? '');
        expect(url.origin).toBe(province.server.url);
        expect(url.searchParams.get('unit')).toBe(COMMUNE);
        const id = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
        const p = ProvisioningFileSchema.parse(
          JSON.parse(readFileSync(join(dir, 'cards', `${id}.json`), 'utf8')),
        );
        expect(p.label).toBe(row.label);
        decoded++;
      });
      expect(decoded).toBe(60);
    },
    T,
  );
});

describe('all or nothing', () => {
  it(
    'reports every bad CSV line and makes nothing',
    async () => {
      const before = (await tokens()).length;
      const bad =
        'label,unit,latitude,longitude,profile\n' +
        'Cụm loa chợ,08/02500,21.6,105.4,pi4-relay-ec25\n' +
        ',08/02500,21.6,105.4,pi4-relay-ec25\n' +
        'Cụm loa đình,xã Sơn Dương,21.6,105.4,pi4-relay-ec25\n' +
        'Cụm loa trường,08/02500,121.6,105.4,pi4-relay-ec25\n' +
        'Cụm loa chợ,08/02500,21.6,105.4,pi4-relay-ec25\n' +
        'Cụm loa bến,08/02500,21.6,105.4,pi9-unknown\n';
      writeFileSync(join(dir, 'bad.csv'), bad);
      const r = await loa([
        'provision',
        '--stations',
        'bad.csv',
        '--server',
        province.server.url,
        '--api-token-file',
        'api-token',
        '--out',
        'bad-out',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('dòng 3: label: không được để trống');
      expect(r.stderr).toContain('dòng 4: unit: "xã Sơn Dương" phải là mã đơn vị');
      expect(r.stderr).toContain('dòng 5: latitude: "121.6" phải là số từ -90 đến 90');
      expect(r.stderr).toContain('dòng 6: mã trạm st-02500-cum-loa-cho trùng với dòng 2');
      expect(r.stderr).toContain('dòng 7: profile: không có cấu hình "pi9-unknown"');
      expect(r.stderr).toContain('LỖI PROVISION_CSV_INVALID');
      expect(existsSync(join(dir, 'bad-out'))).toBe(false);
      expect((await tokens()).length).toBe(before);
    },
    T,
  );

  it(
    'revokes the tokens it made when the server refuses a later one',
    async () => {
      // the technician's scope is 08/02500: the server refuses the station of another commune
      const mixed = `${csv(rows.slice(0, 3)).trimEnd()}\nCụm loa xã bên,08/02501,21.7,105.5,pi4-relay-ec25\n`;
      writeFileSync(join(dir, 'mixed.csv'), mixed);
      const before = new Set((await tokens()).map((t) => t.id));
      const r = await loa([
        'provision',
        '--stations',
        'mixed.csv',
        '--server',
        province.server.url,
        '--api-token-file',
        'api-token',
        '--out',
        'mixed-out',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/LỖI (FORBIDDEN|UNIT_NOT_FOUND|SCOPE)/);
      expect(existsSync(join(dir, 'mixed-out'))).toBe(false);
      const fresh = (await tokens()).filter((t) => !before.has(t.id));
      expect(fresh).toHaveLength(3);
      expect(fresh.every((t) => t.revokedAt)).toBe(true);
    },
    T,
  );

  it(
    'takes tokens from a file, and refuses a non-empty output directory',
    async () => {
      writeFileSync(
        join(dir, 'tokens.txt'),
        `# made on the dashboard\n${['a', 'b'].map((x) => `loaenr_${x.repeat(24)}`).join('\n')}\n`,
      );
      writeFileSync(join(dir, 'two.csv'), csv(rows.slice(0, 2)));
      const ok = await loa([
        'provision',
        '--stations',
        'two.csv',
        '--server',
        province.server.url,
        '--tokens',
        'tokens.txt',
        '--out',
        'two',
      ]);
      expect(ok.code).toBe(0);
      const tok = ProvisioningFileSchema.parse(
        JSON.parse(
          readFileSync(
            join(
              dir,
              'two',
              readdirSync(join(dir, 'two'))
                .filter((f) => f.endsWith('.json'))
                .sort()[0] as string,
            ),
            'utf8',
          ),
        ),
      ).enrolmentToken;
      expect(tok).toMatch(/^loaenr_(a{24}|b{24})$/);
      const again = await loa([
        'provision',
        '--stations',
        'two.csv',
        '--server',
        province.server.url,
        '--tokens',
        'tokens.txt',
        '--out',
        'two',
      ]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('PROVISION_OUT_NOT_EMPTY');
      const few = await loa([
        'provision',
        '--stations',
        'stations.csv',
        '--server',
        province.server.url,
        '--tokens',
        'tokens.txt',
        '--out',
        'few',
      ]);
      expect(few.code).toBe(1);
      expect(few.stderr).toContain('TOKENS_TOO_FEW');
      const both = await loa([
        'provision',
        '--stations',
        'two.csv',
        '--server',
        province.server.url,
        '--out',
        'x',
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('cần đúng một trong --api-token-file hoặc --tokens');
    },
    T,
  );
});
