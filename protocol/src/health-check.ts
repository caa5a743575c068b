/**
 * A hand-written check of `HealthSchema`, for the server's hot path (every station reports its
 * health every minute; zod's generic walk took about a quarter of the ingest CPU). It answers
 * only "valid or not", with exactly zod's semantics for this schema: strict objects (no unknown
 * keys), optional = absent or undefined, safe integers for `.int()`, finite numbers, string
 * lengths in UTF-16 units, the same id, channel and ISO-instant patterns, records as plain
 * objects. A property test (tests/protocol/health-check.test.ts) runs it beside the zod schema on
 * random valid and invalid payloads so the two never disagree. Callers that need the reason of a
 * refusal ask zod (`parseHealth`), which is the cold path.
 */
import type { z } from 'zod';
import { id, instant, int, isObj, num, numIn, oneOf, onlyKeys, relays, str } from './check-primitives.js';
import { CHANNEL_PATTERN } from './manifest.js';
import { type Health, HealthSchema } from './mqtt.js';

const CHANNEL = CHANNEL_PATTERN;
const numMin = (v: unknown, min: number) => num(v) && v >= min;

const HEALTH_KEYS = new Set(Object.keys(HealthSchema.shape));
const MODEM_KEYS = new Set(['rssiDbm', 'operator', 'registration', 'tech', 'iccid', 'failures']);
const REGISTRATION = ['home', 'roaming', 'searching', 'denied', 'unknown', 'not-registered'];
const INPUT_KEYS = new Set(['mains', 'door', 'ampFault']);
const ON_AIR_KEYS = new Set([
  'bundleId',
  'itemId',
  'kind',
  'since',
  'momentaryLufs',
  'peakDbfs',
  'source',
  'sourceReason',
]);
const BUNDLE_KEYS = new Set(['channel', 'id', 'version']);
const CLOCK_KEYS = new Set(['trusted', 'source', 'lastTrusted']);
const CLOCK_SOURCES = ['ntp', 'server', 'modem', 'persisted', 'none'];
const DISPLAY_KEYS = new Set(['onScreen', 'heartbeatAgeMs', 'restarts', 'screen', 'powerControl', 'alert']);
const ON_SCREEN_KEYS = new Set(['bundleId', 'itemId', 'kind', 'since']);
const SCREEN = ['on', 'off', 'unknown'];
const POWER = ['cec', 'wlr-randr', 'none'];
const ALERT_KEYS = new Set(['code', 'message', 'at']);
const USB_KEYS = new Set(['file', 'ok', 'code', 'bundleId', 'channel', 'version', 'at']);

function modem(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, MODEM_KEYS) &&
    (v.rssiDbm === null || numIn(v.rssiDbm, -150, 0)) &&
    (v.operator === null || str(v.operator, 64)) &&
    oneOf(v.registration, REGISTRATION) &&
    (v.tech === undefined || str(v.tech, 16)) &&
    (v.iccid === undefined || str(v.iccid, 24)) &&
    (v.failures === undefined || int(v.failures, 0))
  );
}

function inputs(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, INPUT_KEYS) &&
    (v.mains === null || typeof v.mains === 'boolean') &&
    (v.door === null || v.door === 'open' || v.door === 'closed') &&
    (v.ampFault === null || typeof v.ampFault === 'boolean')
  );
}

function onAir(v: unknown): boolean {
  if (v === null) return true;
  return (
    isObj(v) &&
    onlyKeys(v, ON_AIR_KEYS) &&
    (v.bundleId === undefined || id(v.bundleId)) &&
    (v.itemId === undefined || id(v.itemId)) &&
    str(v.kind, 16) &&
    instant(v.since) &&
    (v.momentaryLufs === undefined || numIn(v.momentaryLufs, -200, 20)) &&
    (v.peakDbfs === undefined || numIn(v.peakDbfs, -200, 20)) &&
    (v.source === undefined || str(v.source, 16)) &&
    (v.sourceReason === undefined || str(v.sourceReason, 200))
  );
}

function bundles(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 64) return false;
  for (const b of v) {
    if (
      !(
        isObj(b) &&
        onlyKeys(b, BUNDLE_KEYS) &&
        typeof b.channel === 'string' &&
        CHANNEL.test(b.channel) &&
        id(b.id) &&
        int(b.version, 1)
      )
    )
      return false;
  }
  return true;
}

function clock(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, CLOCK_KEYS) &&
    typeof v.trusted === 'boolean' &&
    oneOf(v.source, CLOCK_SOURCES) &&
    (v.lastTrusted === undefined || instant(v.lastTrusted))
  );
}

function alert(v: unknown): boolean {
  return isObj(v) && onlyKeys(v, ALERT_KEYS) && str(v.code, 64) && str(v.message, 500) && instant(v.at);
}

function display(v: unknown): boolean {
  if (!isObj(v) || !onlyKeys(v, DISPLAY_KEYS)) return false;
  const s = v.onScreen;
  const onScreenOk =
    s === null ||
    (isObj(s) &&
      onlyKeys(s, ON_SCREEN_KEYS) &&
      (s.bundleId === undefined || id(s.bundleId)) &&
      (s.itemId === undefined || id(s.itemId)) &&
      str(s.kind, 16) &&
      instant(s.since));
  return (
    onScreenOk &&
    (v.heartbeatAgeMs === null || int(v.heartbeatAgeMs, 0)) &&
    int(v.restarts, 0) &&
    oneOf(v.screen, SCREEN) &&
    oneOf(v.powerControl, POWER) &&
    (v.alert === undefined || alert(v.alert))
  );
}

function usbImport(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, USB_KEYS) &&
    str(v.file, 300) &&
    typeof v.ok === 'boolean' &&
    (v.code === undefined || str(v.code, 64)) &&
    (v.bundleId === undefined || id(v.bundleId)) &&
    (v.channel === undefined || (typeof v.channel === 'string' && CHANNEL.test(v.channel))) &&
    (v.version === undefined || int(v.version, 1)) &&
    instant(v.at)
  );
}

/** True when `v` is a valid health report (exactly when `HealthSchema.safeParse(v).success`). */
export function isHealth(v: unknown): v is Health {
  return (
    isObj(v) &&
    onlyKeys(v, HEALTH_KEYS) &&
    instant(v.at) &&
    int(v.seq, 0) &&
    str(v.agentVersion, 64) &&
    numMin(v.uptimeS, 0) &&
    (v.cpuTempC === undefined || numIn(v.cpuTempC, -50, 150)) &&
    (v.load1 === undefined || numMin(v.load1, 0)) &&
    (v.memUsedMb === undefined || numMin(v.memUsedMb, 0)) &&
    (v.memTotalMb === undefined || numMin(v.memTotalMb, 0)) &&
    (v.diskFreeMb === undefined || numMin(v.diskFreeMb, 0)) &&
    (v.modem === undefined || modem(v.modem)) &&
    inputs(v.inputs) &&
    relays(v.relays) &&
    onAir(v.onAir) &&
    (v.volume === undefined ||
      (typeof v.volume === 'number' && Number.isSafeInteger(v.volume) && v.volume >= 0 && v.volume <= 100)) &&
    bundles(v.bundles) &&
    (v.trustVersion === undefined || int(v.trustVersion, 0)) &&
    clock(v.clock) &&
    (v.proofBacklog === undefined || int(v.proofBacklog, 0)) &&
    (v.deadAir === undefined || typeof v.deadAir === 'boolean') &&
    (v.display === undefined || display(v.display)) &&
    (v.usbImport === undefined || usbImport(v.usbImport)) &&
    (v.lastError === undefined || alert(v.lastError))
  );
}

/**
 * Parses a health report: the fast check for what is valid (the value is returned as it is), zod
 * for what is not (its issues say why). Same answers as `HealthSchema.safeParse`.
 */
export function parseHealth(
  v: unknown,
): { success: true; data: Health } | { success: false; error: z.ZodError } {
  if (isHealth(v)) return { success: true, data: v };
  const r = HealthSchema.safeParse(v);
  return r.success ? { success: true, data: r.data } : { success: false, error: r.error };
}
