/**
 * A small province fixture written through the real store: three stations and a noticeboard in
 * 08/02500, one station in 08/02503, a published bundle with a priority bulletin at 05:30 (audio
 * for the stations, text for the noticeboard), signed proofs, alerts, and presence.
 */
import { randomUUID } from 'node:crypto';
import {
  addSignature,
  GENESIS_PREV,
  generateKeyPair,
  type Manifest,
  type Proof,
  type ProofBody,
  proofHash,
} from '@loa/protocol';
import type { AlertRecord, BundleRecord, DeviceRecord } from '../../../fleet-server/src/domain/model.js';
import type { Store } from '../../../fleet-server/src/store/ports.js';

export const T0 = '2026-11-01T00:00:00Z';

export function device(
  id: string,
  unit: string,
  kind: DeviceRecord['kind'] = 'station',
  name = id,
): DeviceRecord {
  return {
    id,
    unit,
    kind,
    name,
    status: 'active',
    publicKey: 'k',
    keyId: `k-${id}`,
    mqttPasswordHash: 'h',
    groups: [],
    hardware: {},
    enrolledAt: T0,
    approvedAt: T0,
    updatedAt: T0,
  };
}

export const MANIFEST: Manifest = {
  type: 'loa-bundle',
  format: 1,
  id: 'main-v1',
  channel: 'main',
  version: 1,
  created: '2026-11-20T00:00:00+07:00',
  expires: '2026-12-20T00:00:00+07:00',
  targets: [{ unit: '08' }],
  items: [
    {
      id: 'a',
      title: 'Bản tin nông nghiệp',
      kind: 'audio',
      priority: 'priority',
      lang: 'vi',
      category: 'agriculture',
      blob: { sha256: 'b'.repeat(64), size: 1000, mediaType: 'audio/ogg' },
      durationMs: 120_000,
    },
    {
      id: 'n',
      title: 'Thông báo lịch tiêm',
      kind: 'text',
      priority: 'normal',
      lang: 'vi',
      text: 'y',
      category: 'health',
    },
  ],
  schedule: [{ id: 's', items: ['a', 'n'], rule: { type: 'daily', times: ['05:30'] } }],
  signatures: [],
};

export const BUNDLE: BundleRecord = {
  id: 'main-v1',
  channel: 'main',
  version: 1,
  state: 'published',
  manifest: MANIFEST,
  units: ['08'],
  createdBy: 'e',
  createdAt: T0,
  updatedAt: T0,
  publishedAt: '2026-11-20T00:00:00+07:00',
};

/** Signed proof chains per device. */
export class Chains {
  readonly keys = new Map<string, ReturnType<typeof generateKeyPair>>();
  readonly last = new Map<string, { seq: number; hash: string }>();

  proof(deviceId: string, day: string, extra: Partial<ProofBody> = {}): Proof {
    let key = this.keys.get(deviceId);
    if (!key) {
      key = generateKeyPair();
      this.keys.set(deviceId, key);
    }
    const prev = this.last.get(deviceId) ?? { seq: 0, hash: GENESIS_PREV };
    const body: ProofBody = {
      type: 'loa-proof',
      format: 1,
      eventId: randomUUID(),
      deviceId,
      seq: prev.seq + 1,
      prev: prev.hash,
      bundleId: 'main-v1',
      itemId: 'a',
      entryId: 's',
      priority: 'priority',
      scheduledAt: `${day}T05:30:00+07:00`,
      startedAt: `${day}T05:30:01+07:00`,
      endedAt: `${day}T05:32:01+07:00`,
      outcome: 'completed',
      loudnessLufs: -16.5,
      relays: { amplifier: true },
      clockTrusted: true,
      at: `${day}T05:32:01+07:00`,
      ...extra,
    };
    const p = addSignature(body, key.privateKey) as Proof;
    this.last.set(deviceId, { seq: p.seq, hash: proofHash(p) });
    return p;
  }
}

export function alert(
  id: string,
  deviceId: string,
  rule: string,
  openedAt: string,
  resolvedAt: string,
): AlertRecord {
  return {
    id,
    deviceId,
    unit: '08/02500',
    rule,
    severity: 'warning',
    state: 'resolved',
    message: rule,
    openedAt,
    resolvedAt,
  };
}

export async function writeProofs(store: Store, proofs: Proof[], receivedAt: string): Promise<void> {
  await store.proofs.appendMany(
    proofs.map((p) => ({ deviceId: p.deviceId, receivedAt, hash: proofHash(p), proof: p })),
  );
}
