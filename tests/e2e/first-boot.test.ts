/**
 * First boot from the provisioning file, against a real fleet server on 127.0.0.1: a technician
 * makes a one-time token through the API and writes `loa-provision.json` (the format `loa
 * provision` writes) into the station's boot directory; the real agent, whose config names only
 * that file, generates its key, enrols with the station id and label from the file, stores its
 * credentials in its data directory and rewrites the file without the token. A second boot of
 * the same card does not enrol again; a power cut between storing the credentials and rewriting
 * the file (the token still there at the next boot) ends with the token removed and still one
 * enrolment.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetServer } from '@loa/fleet-server';
import {
  generateKeyPair,
  ProvisioningFileSchema,
  type ProvisioningInput,
  publicKeyToPem,
} from '@loa/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/src/config.js';
import { type AgentRuntime, startAgent } from '../../agent/src/main.js';
import { createEnrolmentToken } from '../../scripts/src/sim/provision.js';
import { eventually } from '../fleet-server/publish/harness.js';
import { type Province, startProvince } from './helpers/province-station.js';

const COMMUNE = '08/02500';
const dir = mkdtempSync(join(tmpdir(), 'loa-first-boot-'));
const root = generateKeyPair();
const log = pino({ level: process.env.LOA_TEST_LOG ?? 'silent' });
const boot = join(dir, 'boot-firmware');
const provPath = join(boot, 'loa-provision.json');
const dataDir = join(dir, 'var-lib-loa');

let server: FleetServer | undefined;
let province: Province;
let agent: AgentRuntime | undefined;
let token = '';

interface TokenView {
  uses: number;
  maxUses: number;
  note?: string;
}
interface DeviceView {
  id: string;
  name: string;
  unit: string;
  hardware: Record<string, unknown>;
}

beforeAll(async () => {
  province = await startProvince({
    dataDir: join(dir, 'server'),
    root,
    commune: COMMUNE,
    logger: log.child({ side: 'server' }),
    onServer: (s) => {
      server = s;
    },
  });
  // the helper's own token is for another station; this card gets its own, as `loa provision` makes
  token = await createEnrolmentToken(province.technician, {
    unit: COMMUNE,
    kind: 'station',
    maxUses: 1,
    note: 'first-boot',
  });
  mkdirSync(boot, { recursive: true });
  const prov: ProvisioningInput = {
    format: 'loa-provision/1',
    fleetUrl: province.server.url,
    enrolmentToken: token,
    stationId: 'st-02500-cho',
    unit: COMMUNE,
    label: 'Cụm loa chợ Sơn Dương',
    location: { lat: 21.6414, lon: 105.3997, place: 'Chợ trung tâm' },
    profile: 'pi4-relay-ec25',
    network: { apn: { name: 'v-internet' } },
  };
  writeFileSync(provPath, JSON.stringify(ProvisioningFileSchema.parse(prov), null, 2));
  writeFileSync(join(dir, 'root.pub'), publicKeyToPem(root.publicKey));
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The image's agent config: no server address or token, only where the provisioning file is. */
function boot1(): Promise<AgentRuntime> {
  const config = parseConfig(
    {
      device: { dataDir },
      fleet: { provisioningFile: provPath, healthIntervalS: 5 },
      trust: { rootKeys: ['root.pub'] },
      hardware: {
        gpio: { driver: 'sim' },
        amplifier: { pin: 17 },
        modem: { driver: 'sim', pollIntervalS: 5 },
      },
      audio: { driver: 'sim', output: { type: 'null' } },
      technician: { enabled: false },
    },
    dir,
  );
  return startAgent(config, { logger: log.child({ side: 'agent' }), env: {} });
}

async function tokenUses(): Promise<number> {
  const list = await province.technician.get<TokenView[]>('/enrol-tokens');
  const t = list.find((x) => x.note === 'first-boot');
  if (!t) throw new Error('token not listed');
  return t.uses;
}

async function devicesInCommune(): Promise<DeviceView[]> {
  const list = await province.operator.get<{ total: number; devices: DeviceView[] }>(
    `/devices?unit=${COMMUNE}`,
  );
  return list.devices;
}

describe('first boot from the provisioning file (real fleet server on 127.0.0.1)', () => {
  it('enrols with the station id and label from the file, then forgets the token', async () => {
    agent = await boot1();
    const creds = await eventually(() => agent?.enrolment.credentials(), 60_000, 100);
    expect(creds.deviceId).toBe('st-02500-cho');
    expect(creds.unit).toBe(COMMUNE);
    expect(creds.fleetUrl).toBe(province.server.url);
    // key and credentials on the data partition, private
    expect(statSync(join(dataDir, 'device-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    // the token is gone; everything else stays as the technician wrote it
    const after = JSON.parse(readFileSync(provPath, 'utf8'));
    expect(after.enrolmentToken).toBeUndefined();
    expect(JSON.stringify(after)).not.toContain(token);
    expect(after).toMatchObject({
      stationId: 'st-02500-cho',
      label: 'Cụm loa chợ Sơn Dương',
      profile: 'pi4-relay-ec25',
    });
    expect(ProvisioningFileSchema.safeParse(after).success).toBe(true);
    const dev = await province.operator.get<DeviceView>('/devices/st-02500-cho');
    expect(dev.name).toBe('Cụm loa chợ Sơn Dương');
    expect(dev.hardware).toMatchObject({ profile: 'pi4-relay-ec25', lat: 21.6414, lon: 105.3997 });
    expect(await tokenUses()).toBe(1);
    await agent.stop();
    agent = undefined;
  }, 120_000);

  it('a second boot of the same card does not enrol again', async () => {
    const key = readFileSync(join(dataDir, 'device-key.pem'), 'utf8');
    const before = await devicesInCommune();
    agent = await boot1();
    expect(agent.enrolment.credentials()?.deviceId).toBe('st-02500-cho');
    // online with the stored credentials
    await eventually(
      async () => {
        const d = await province.operator.get<{ online: boolean }>('/devices/st-02500-cho');
        return d.online || undefined;
      },
      60_000,
      100,
    );
    expect(agent.enrolment.lastError).toBeUndefined();
    expect(readFileSync(join(dataDir, 'device-key.pem'), 'utf8')).toBe(key);
    expect(await tokenUses()).toBe(1);
    expect((await devicesInCommune()).map((d) => d.id)).toEqual(before.map((d) => d.id));
    await agent.stop();
    agent = undefined;
  }, 120_000);

  it('a token left by a power cut before the rewrite is removed at the next boot, without enrolling', async () => {
    const now = JSON.parse(readFileSync(provPath, 'utf8'));
    writeFileSync(provPath, JSON.stringify({ ...now, enrolmentToken: token }, null, 2));
    // and a temporary file that the interrupted rewrite left beside it
    writeFileSync(join(boot, '.loa-provision.json.0a1b2c3d4e5f.tmp'), '{"half":');
    agent = await boot1();
    const after = JSON.parse(readFileSync(provPath, 'utf8'));
    expect(after.enrolmentToken).toBeUndefined();
    expect(existsSync(join(boot, '.loa-provision.json.0a1b2c3d4e5f.tmp'))).toBe(false);
    expect(agent.enrolment.credentials()?.deviceId).toBe('st-02500-cho');
    expect(agent.enrolment.lastError).toBeUndefined();
    expect(await tokenUses()).toBe(1);
  }, 120_000);
});
