/** Device page view model (pure). */
import type { Health, Proof } from '@loa/protocol';
import type { PresenceInfo } from '../../../broker/types.js';
import type {
  AlertRecord,
  BundleRecord,
  DeviceRecord,
  HealthEntry,
  ProofEntry,
  RolloutRecord,
  UnitRecord,
} from '../../../domain/model.js';
import { type DeviceState, deviceState } from './fleet.js';

export interface ProofRow {
  seq: number;
  at: string;
  itemId: string | undefined;
  itemTitle: string | undefined;
  bundleId: string | undefined;
  /** The programme's description (or its items' titles), when the bundle is known. */
  bundleTitle: string | undefined;
  priority: Proof['priority'];
  outcome: Proof['outcome'];
  scheduledAt: string | undefined;
  startedAt: string | undefined;
  endedAt: string | undefined;
  loudnessLufs: number | undefined;
  reason: string | undefined;
}

export interface RolloutRow {
  bundleId: string;
  /** What the programme is: its description, else its items' titles, else its id. */
  title: string;
  channel: string;
  /** The channel by its readable name (the description of its newest known version), else its slug. */
  channelName: string;
  version: number | undefined;
  state: RolloutRecord['state'];
  reason: string | undefined;
  updatedAt: string;
  /** Installed according to the latest health report. */
  installed: boolean;
}

export interface DeviceVm {
  device: DeviceRecord;
  unitName: string;
  state: DeviceState;
  presence: PresenceInfo | undefined;
  health: Health | undefined;
  healthAt: string | undefined;
  /** Title of the item on air (from the bundle), else its id. */
  onAirTitle: string | undefined;
  /** Amplifier relay as last observed (health report or, when newer, a proof). */
  amplifier: boolean | undefined;
  proofs: ProofRow[];
  rollouts: RolloutRow[];
  alerts: AlertRecord[];
}

export interface HealthSeries {
  t: number[];
  cpuTempC: (number | null)[];
  rssiDbm: (number | null)[];
  load1: (number | null)[];
  lufs: (number | null)[];
}

/** Column-oriented series for uPlot (seconds since epoch), oldest first. */
export function healthSeries(entries: readonly HealthEntry[]): HealthSeries {
  const sorted = [...entries].sort((a, b) => Date.parse(a.health.at) - Date.parse(b.health.at));
  const out: HealthSeries = { t: [], cpuTempC: [], rssiDbm: [], load1: [], lufs: [] };
  for (const e of sorted) {
    const h = e.health;
    out.t.push(Math.floor(Date.parse(h.at) / 1000));
    out.cpuTempC.push(h.cpuTempC ?? null);
    out.rssiDbm.push(h.modem?.rssiDbm ?? null);
    out.load1.push(h.load1 ?? null);
    out.lufs.push(h.onAir?.momentaryLufs ?? null);
  }
  return out;
}

function itemTitle(bundles: ReadonlyMap<string, BundleRecord>, p: Proof): string | undefined {
  if (!p.bundleId || !p.itemId) return undefined;
  return bundles.get(p.bundleId)?.manifest.items.find((i) => i.id === p.itemId)?.title;
}

function onAirTitle(bundles: ReadonlyMap<string, BundleRecord>, onAir: Health['onAir']): string | undefined {
  if (!onAir) return undefined;
  const title =
    onAir.bundleId && onAir.itemId
      ? bundles.get(onAir.bundleId)?.manifest.items.find((i) => i.id === onAir.itemId)?.title
      : undefined;
  return title ?? onAir.itemId ?? onAir.kind;
}

/** A started play is taken as still on air for at most its length plus this margin. */
const ON_AIR_MARGIN_MS = 60_000;
const ON_AIR_UNKNOWN_MS = 10 * 60_000;

/**
 * What is on air now and the amplifier relay, from whichever is newer: the last health report
 * (sent every 30 s or so) or the last proof (sent the moment a play starts or ends). A station
 * reports health rarely, so without the proofs a play and a test tone would show as silence.
 */
export function liveOutput(
  bundles: ReadonlyMap<string, BundleRecord>,
  latest: HealthEntry | undefined,
  lastProof: Proof | undefined,
  nowMs: number,
): { onAirTitle: string | undefined; amplifier: boolean | undefined } {
  const h = latest?.health;
  const fromHealth = { onAirTitle: onAirTitle(bundles, h?.onAir ?? null), amplifier: h?.relays.amplifier };
  if (!lastProof) return fromHealth;
  const proofAt = Date.parse(lastProof.at);
  if (h && Date.parse(h.at) >= proofAt) return fromHealth;
  if (lastProof.outcome !== 'started')
    return { onAirTitle: undefined, amplifier: lastProof.relays.amplifier };
  const item = lastProof.bundleId
    ? bundles.get(lastProof.bundleId)?.manifest.items.find((i) => i.id === lastProof.itemId)
    : undefined;
  const started = Date.parse(lastProof.startedAt ?? lastProof.at);
  const stillOn = nowMs - started < (item?.durationMs ?? ON_AIR_UNKNOWN_MS) + ON_AIR_MARGIN_MS;
  if (!stillOn) return { onAirTitle: undefined, amplifier: lastProof.relays.amplifier };
  return { onAirTitle: item?.title ?? lastProof.itemId ?? '—', amplifier: lastProof.relays.amplifier };
}

/** A programme as people name it: its description, else its items' titles, else its id. */
export function bundleTitle(b: BundleRecord): string {
  return b.manifest.description || b.manifest.items.map((i) => i.title).join(' · ') || b.id;
}

export function buildDevice(inp: {
  device: DeviceRecord;
  unit: UnitRecord | undefined;
  presence: PresenceInfo | undefined;
  latest: HealthEntry | undefined;
  proofs: readonly ProofEntry[];
  rollouts: readonly RolloutRecord[];
  bundles: ReadonlyMap<string, BundleRecord>;
  alerts: readonly AlertRecord[];
  proofLimit?: number;
  nowMs: number;
}): DeviceVm {
  const proofs = [...inp.proofs]
    .sort((a, b) => b.proof.seq - a.proof.seq)
    .slice(0, inp.proofLimit ?? 50)
    .map(
      (e): ProofRow => ({
        seq: e.proof.seq,
        at: e.proof.at,
        itemId: e.proof.itemId,
        itemTitle: itemTitle(inp.bundles, e.proof),
        bundleId: e.proof.bundleId,
        bundleTitle: e.proof.bundleId
          ? (() => {
              const b = inp.bundles.get(e.proof.bundleId as string);
              return b ? bundleTitle(b) : undefined;
            })()
          : undefined,
        priority: e.proof.priority,
        outcome: e.proof.outcome,
        scheduledAt: e.proof.scheduledAt,
        startedAt: e.proof.startedAt,
        endedAt: e.proof.endedAt,
        loudnessLufs: e.proof.loudnessLufs,
        reason: e.proof.reason,
      }),
    );
  const installed = new Set((inp.latest?.health.bundles ?? []).map((b) => b.id));
  const channelNames = new Map<string, { version: number; name: string }>();
  for (const b of inp.bundles.values()) {
    const cur = channelNames.get(b.channel);
    if (b.manifest.description && (!cur || b.version > cur.version))
      channelNames.set(b.channel, { version: b.version, name: b.manifest.description });
  }
  const rollouts = [...inp.rollouts]
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
    .map((r): RolloutRow => {
      const b = inp.bundles.get(r.bundleId);
      return {
        bundleId: r.bundleId,
        title: b ? bundleTitle(b) : r.bundleId,
        channel: b?.channel ?? '',
        channelName: (b && channelNames.get(b.channel)?.name) ?? b?.channel ?? '',
        version: b?.version,
        state: r.state,
        reason: r.reason,
        updatedAt: r.updatedAt,
        installed: installed.has(r.bundleId),
      };
    });
  return {
    device: inp.device,
    unitName: inp.unit?.name ?? inp.device.unit,
    state: deviceState(inp.device, inp.presence),
    presence: inp.presence,
    health: inp.latest?.health,
    healthAt: inp.latest?.receivedAt,
    ...liveOutput(
      inp.bundles,
      inp.latest,
      inp.proofs.reduce<ProofEntry | undefined>(
        (a, e) => (!a || e.proof.seq > a.proof.seq ? e : a),
        undefined,
      )?.proof,
      inp.nowMs,
    ),
    proofs,
    rollouts,
    alerts: inp.alerts.filter((a) => a.deviceId === inp.device.id && a.state !== 'resolved'),
  };
}
