/**
 * The provisioning file (`loa-provision.json`) that a technician puts on the FAT boot partition
 * of a station's SD card, beside Raspberry Pi Imager's cloud-init files (`user-data`,
 * `network-config`). It is the contract between `loa provision` / `loa flash --provision`, which
 * write it, and the agent, which reads it on first boot, enrols, and rewrites it without the
 * token. It lives in protocol because two programs share it, like the manifest.
 *
 * The token is a one-time secret: the file is written 0600 where the file system has modes, and
 * the agent removes the token as soon as the server has answered.
 */
import { z } from 'zod';
import { IdSchema } from './manifest.js';
import { UnitPathSchema } from './units.js';

/** Its file name on the boot partition. */
export const PROVISIONING_FILE_NAME = 'loa-provision.json';

/** "sha256/<base64>": SHA-256 of the server certificate's public key (as in HPKP pin-sha256). */
export const TlsPinSchema = z
  .string()
  .regex(/^sha256\/[A-Za-z0-9+/]{43}=$/, 'a TLS pin is "sha256/" and 44 base64 characters');

/** Hardware profile ids are file names in images/profiles (without .json). */
export const ProfileIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'a hardware profile is lowercase letters, digits and "-"');

export const LocationSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  /** Where it stands, in words (village, building). */
  place: z.string().trim().max(200).optional(),
});

export const NetworkSchema = z.strictObject({
  /** The LTE modem's access point (ModemManager/NetworkManager gsm connection). */
  apn: z
    .strictObject({
      name: z.string().min(1).max(100),
      username: z.string().max(100).optional(),
      password: z.string().max(100).optional(),
    })
    .optional(),
  /** A Wi-Fi network, for noticeboards indoors or bench tests. */
  wifi: z
    .strictObject({
      ssid: z.string().min(1).max(32),
      psk: z.string().min(8).max(63).optional(),
      /** Regulatory country, e.g. VN. */
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .default('VN'),
    })
    .optional(),
});

export const ProvisioningFileSchema = z.strictObject({
  format: z.literal('loa-provision/1'),
  /** The fleet server the station enrols with, e.g. https://loa.tuyenquang.gov.vn */
  fleetUrl: z.url({ protocol: /^https?$/ }),
  fleetTlsPin: TlsPinSchema.optional(),
  /** The one-time enrolment token; removed by the agent once enrolled. */
  enrolmentToken: z.string().min(16).max(200).optional(),
  /** The device id the station asks for (printed on the cabinet's label). */
  stationId: IdSchema,
  unit: UnitPathSchema,
  kind: z.enum(['station', 'noticeboard']).default('station'),
  /** The station's name as operators see it, e.g. "Cụm loa chợ Sơn Dương". */
  label: z.string().trim().min(1).max(200),
  location: LocationSchema.optional(),
  profile: ProfileIdSchema,
  network: NetworkSchema.default({}),
  /**
   * What the station's line output feeds, when not its own amplifier: an old commune's FM
   * exciter or wired amplifier (the agent's `audio.profile` with that profile's defaults; see
   * agent/docs/legacy-output.md). Absent: the hardware profile's setting (a loudspeaker).
   */
  lineOut: z.enum(['loudspeaker', 'fm-exciter', 'wired-line']).optional(),
  /** Plain technician-page password: the agent hashes it and removes it on first start. */
  technicianPassword: z.string().min(8).max(200).optional(),
  technicianPasswordHash: z.string().max(512).optional(),
  /** When and by whom the file was made (for the technician's records). */
  createdAt: z.string().optional(),
});
export type ProvisioningFile = z.infer<typeof ProvisioningFileSchema>;
export type ProvisioningInput = z.input<typeof ProvisioningFileSchema>;
