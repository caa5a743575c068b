/**
 * Tells targeted devices that a bundle is available (protocol NotifySchema): one message on the
 * unit broadcast topic for a whole-unit target, one per device topic when a target is narrowed to
 * groups or devices. Also resolves which registered devices a manifest targets (rollout view).
 */
import {
  deviceTopic,
  type Emergency,
  EmergencySchema,
  type InlineBlob,
  type Manifest,
  type Notify,
  NotifySchema,
  type Target,
  targetMatches,
  unitTopic,
} from '@loa/protocol';
import type { BrokerApi } from '../broker/types.js';
import type { DeviceRecord } from '../domain/model.js';
import type { Store } from '../store/ports.js';

export interface Urls {
  /** Base URL devices use for HTTP, e.g. http://fleet.example:8080 (no trailing slash). */
  base(): string;
}

export function manifestUrl(urls: Urls, bundleId: string): string {
  return `${urls.base()}/bundles/${encodeURIComponent(bundleId)}/manifest.json`;
}
export function blobBase(urls: Urls): string {
  return `${urls.base()}/blobs`;
}

function deviceMatches(t: Target, d: DeviceRecord): boolean {
  return targetMatches(t, { unit: d.unit, deviceId: d.id, groups: d.groups });
}

export class Notifier {
  readonly #d: { broker: BrokerApi; store: Pick<Store, 'devices'>; urls: Urls; now: () => number };

  constructor(d: { broker: BrokerApi; store: Pick<Store, 'devices'>; urls: Urls; now: () => number }) {
    this.#d = d;
  }

  /** Active devices a manifest targets, without duplicates. */
  async targetedDevices(targets: readonly Target[]): Promise<DeviceRecord[]> {
    const out = new Map<string, DeviceRecord>();
    for (const t of targets) {
      for (const d of await this.#d.store.devices.inUnits([t.unit])) {
        if (d.status === 'active' && deviceMatches(t, d)) out.set(d.id, d);
      }
    }
    return [...out.values()];
  }

  /** The topics a notification for these targets goes to. */
  async topicsFor(targets: readonly Target[], kind: 'notify' | 'emergency'): Promise<string[]> {
    const topics = new Set<string>();
    for (const t of targets) {
      if (!t.devices && !t.groups) topics.add(unitTopic(t.unit, kind));
      else for (const d of await this.targetedDevices([t])) topics.add(deviceTopic(d.id, kind));
    }
    return [...topics];
  }

  /** Publishes NotifySchema messages (QoS 1) for a published manifest; returns the topics. */
  async notifyBundle(m: Manifest): Promise<string[]> {
    const topics = await this.topicsFor(m.targets, 'notify');
    await Promise.all(topics.map((t) => this.#d.broker.publish(t, this.#notify(m), { qos: 1 })));
    return topics;
  }

  /** Sends one device the notification of a bundle (catch-up after it reconnects). */
  async notifyDevice(deviceId: string, m: Manifest): Promise<void> {
    await this.#d.broker.publish(deviceTopic(deviceId, 'notify'), this.#notify(m), { qos: 1 });
  }

  #notify(m: Manifest): Notify {
    return NotifySchema.parse({
      bundleId: m.id,
      channel: m.channel,
      version: m.version,
      manifestUrl: manifestUrl(this.#d.urls, m.id),
      blobBase: blobBase(this.#d.urls),
      serverTime: new Date(this.#d.now()).toISOString(),
    });
  }

  /** Sends one device an emergency again on its own topic (escalation of an unconfirmed station). */
  async sendEmergencyTo(deviceId: string, m: Manifest, inline: readonly InlineBlob[] = []): Promise<void> {
    const msg: Emergency = EmergencySchema.parse({
      manifest: m,
      blobBase: blobBase(this.#d.urls),
      serverTime: new Date(this.#d.now()).toISOString(),
      ...(inline.length > 0 ? { inline } : {}),
    });
    await this.#d.broker.publish(deviceTopic(deviceId, 'emergency'), msg, { qos: 1 });
  }

  /**
   * Publishes an emergency (inline manifest, QoS 1) on the unit broadcast topics, with the blobs
   * given in `inline` carried in the message (short spoken audio).
   */
  async sendEmergency(m: Manifest, inline: readonly InlineBlob[] = []): Promise<string[]> {
    const msg: Emergency = EmergencySchema.parse({
      manifest: m,
      blobBase: blobBase(this.#d.urls),
      serverTime: new Date(this.#d.now()).toISOString(),
      ...(inline.length > 0 ? { inline } : {}),
    });
    const topics = await this.topicsFor(m.targets, 'emergency');
    await Promise.all(topics.map((t) => this.#d.broker.publish(t, msg, { qos: 1 })));
    return topics;
  }
}
