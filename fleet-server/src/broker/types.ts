/**
 * What the rest of the server sees of the embedded broker: an in-process publish path and a hook
 * for validated device messages (ingest subscribes here).
 */
import type { CommandResult, Health, Presence, ProofUplink, Status, UpKind } from '@loa/protocol';

/** A device message that passed the ACL, the limits and its payload schema. */
export type DeviceMessage =
  | { deviceId: string; kind: 'presence'; payload: Presence; receivedAt: number }
  /** `json`: the report's text as received (validated; the store may write it as it came). */
  | { deviceId: string; kind: 'health'; payload: Health; receivedAt: number; json?: string }
  /** One signed proof, or a batch of them (protocol/README.md, section 10). */
  | { deviceId: string; kind: 'proof'; payload: ProofUplink; receivedAt: number }
  | { deviceId: string; kind: 'status'; payload: Status; receivedAt: number }
  | { deviceId: string; kind: 'cmd-result'; payload: CommandResult; receivedAt: number };

export type DeviceMessageHandler = (msg: DeviceMessage) => void | Promise<void>;

export interface PresenceInfo {
  deviceId: string;
  /** Latest presence by (boot, conn) order, or a server-side "offline" after a disconnect. */
  presence: Presence | null;
  /** True while an MQTT connection of this device is open. */
  connected: boolean;
  /** When the server last saw the connection change (ms since epoch). */
  since: number;
  /** Clustered: the change was seen by another node (its hooks, e.g. alert rules, ran there). */
  remote?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}

export interface BrokerApi {
  /** Publishes as the server (bypasses device ACLs). `payload` objects are sent as JSON. */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>;
  /** Registers a handler for validated device messages; returns an unsubscribe function. */
  onDeviceMessage(handler: DeviceMessageHandler): () => void;
  /** Connection/presence changes (online/offline), for dashboards and alerting. */
  onPresence(handler: (info: PresenceInfo) => void): () => void;
  presence(deviceId: string): PresenceInfo | undefined;
  presenceAll(): ReadonlyMap<string, PresenceInfo>;
  onlineCount(): number;
  /** Closes a device's connection (after revoke/decommission). */
  disconnect(deviceId: string): void;
  /** Forgets cached credentials (after a revoke or a password reset). */
  forgetCredentials(deviceId: string): void;
}

export const UP_KIND_SET: ReadonlySet<string> = new Set<UpKind>([
  'presence',
  'health',
  'proof',
  'status',
  'cmd-result',
]);
