/**
 * The station's provisioning file on the FAT boot partition (`/boot/firmware/loa-provision.json`,
 * beside Raspberry Pi Imager's cloud-init `user-data`): what it says, and forgetting its one-time
 * token once the station is enrolled. The format is `ProvisioningFileSchema` in protocol (shared
 * with `loa provision` and `loa flash`); a hand-written file of the older flat shape (fleetUrl,
 * enrolmentToken, deviceName) is still read.
 *
 * Crash safety on FAT: the rewrite goes through protocol's writeJsonAtomic (temporary sibling,
 * fsync, rename; vfat refuses a directory fsync, which that function allows). A power cut leaves
 * the old file or the new one; a token left behind by a cut between storing the credentials and
 * rewriting the file is removed at the next start (see `forgetEnrolmentToken`).
 */
import { readFile } from 'node:fs/promises';
import { LoaError, type ProvisioningFile, ProvisioningFileSchema } from '@loa/protocol';
import { removeStaleTemps, writeJsonAtomic } from '@loa/protocol/fs';

/** Where the image looks for it (the boot partition, as Raspberry Pi OS mounts it). */
export const DEFAULT_PROVISIONING_PATH = '/boot/firmware/loa-provision.json';

/** What enrolment takes from the file. */
export interface ProvisioningFacts {
  fleetUrl?: string;
  token?: string;
  /** The device id the station asks for (printed on its cabinet label). */
  deviceId?: string;
  name?: string;
  /** Flat facts added to the enrolment's hardware record. */
  hardware: Record<string, string | number>;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LoaError('PROVISION_UNREADABLE', `không đọc được tệp cấp phát ${path}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LoaError('PROVISION_INVALID', `tệp cấp phát ${path} không phải JSON`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new LoaError('PROVISION_INVALID', `tệp cấp phát ${path} phải là một đối tượng JSON`);
  return json as Record<string, unknown>;
}

/**
 * Reads the file: a `loa-provision/1` file is checked against the schema (PROVISION_INVALID
 * names every bad field); undefined when there is none.
 */
export async function readProvisioningFile(path: string): Promise<ProvisioningFile | undefined> {
  const json = await readJson(path);
  if (!json || json.format === undefined) return undefined;
  const r = ProvisioningFileSchema.safeParse(json);
  if (!r.success)
    throw new LoaError(
      'PROVISION_INVALID',
      `tệp cấp phát ${path} sai: ${r.error.issues.map((i) => `${i.path.join('.') || '(gốc)'}: ${i.message}`).join('; ')}`,
      { cause: r.error },
    );
  return r.data;
}

/** The enrolment facts of a provisioning file (either shape). */
export async function provisioningFacts(path: string): Promise<ProvisioningFacts | undefined> {
  const json = await readJson(path);
  if (!json) return undefined;
  const p = await readProvisioningFile(path);
  if (!p) {
    // the older flat shape
    const s = (k: string) => (typeof json[k] === 'string' ? (json[k] as string) : undefined);
    const fleetUrl = s('fleetUrl');
    const token = s('enrolmentToken');
    const name = s('deviceName');
    return {
      ...(fleetUrl ? { fleetUrl } : {}),
      ...(token ? { token } : {}),
      ...(name ? { name } : {}),
      hardware: {},
    };
  }
  return {
    fleetUrl: p.fleetUrl,
    ...(p.enrolmentToken ? { token: p.enrolmentToken } : {}),
    deviceId: p.stationId,
    name: p.label,
    hardware: {
      profile: p.profile,
      ...(p.location ? { lat: p.location.lat, lon: p.location.lon } : {}),
    },
  };
}

/**
 * Rewrites the file without its enrolment token (crash-safe). Returns whether there was one.
 * Keys the agent does not know are kept as they were.
 */
export async function forgetEnrolmentToken(path: string): Promise<boolean> {
  await removeStaleTemps(path);
  const json = await readJson(path);
  if (!json || json.enrolmentToken === undefined) return false;
  const { enrolmentToken: _t, ...rest } = json;
  try {
    await writeJsonAtomic(path, rest, { mode: 0o600 });
  } catch (cause) {
    throw new LoaError('PROVISION_TOKEN_NOT_FORGOTTEN', `không xoá được mã đăng ký khỏi ${path}`, { cause });
  }
  return true;
}
