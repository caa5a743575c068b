/**
 * Strict CAP 1.2 (OASIS Common Alerting Protocol) parsing, pure. The XML is checked before it is
 * parsed: a document type declaration (the door to entity expansion, "billion laughs") is refused
 * outright, and the parser never expands entities; only the five predefined XML entities and
 * numeric character references are decoded in text. Every required element, enumeration, date and
 * geometry of the specification is checked; the first problem is a LoaError with a stable code.
 */
import { LoaError } from '@loa/protocol';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** Largest CAP document accepted (bytes); real alerts are a few kilobytes. */
export const CAP_MAX_BYTES = 256 * 1024;

export const CAP_STATUS = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPE = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPE = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORY = [
  'Geo',
  'Met',
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'CBRNE',
  'Other',
] as const;
export const CAP_URGENCY = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const CAP_SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTY = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUS)[number];
export type CapMsgType = (typeof CAP_MSG_TYPE)[number];
export type CapUrgency = (typeof CAP_URGENCY)[number];
export type CapSeverity = (typeof CAP_SEVERITY)[number];
export type CapCertainty = (typeof CAP_CERTAINTY)[number];

export interface CapValuePair {
  valueName: string;
  value: string;
}

/** A point as [latitude, longitude] (WGS 84, as CAP writes them). */
export type LatLon = [number, number];

export interface CapArea {
  areaDesc: string;
  polygons: LatLon[][];
  circles: { center: LatLon; radiusKm: number }[];
  geocodes: CapValuePair[];
}

export interface CapInfo {
  language: string;
  categories: string[];
  event: string;
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  effective?: string;
  onset?: string;
  expires?: string;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  parameters: CapValuePair[];
  areas: CapArea[];
}

export interface CapReference {
  sender: string;
  identifier: string;
  sent: string;
}

export interface CapAlert {
  identifier: string;
  sender: string;
  sent: string;
  status: CapStatus;
  msgType: CapMsgType;
  scope: string;
  source?: string;
  note?: string;
  references: CapReference[];
  infos: CapInfo[];
}

function fail(code: string, message: string, details?: Record<string, unknown>): never {
  throw new LoaError(code, message, details ? { details } : undefined);
}

/** CAP dateTime: "2002-05-24T16:49:00-07:00"; CAP 1.2 forbids "Z" and fractions are not in its pattern. */
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

export function parseCapDate(value: string, field: string): string {
  const m = DATE_RE.exec(value);
  const t = m ? Date.parse(value) : Number.NaN;
  if (!m || Number.isNaN(t) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23)
    fail(
      'CAP_BAD_DATE',
      `CAP: thời điểm "${value.slice(0, 40)}" ở ${field} không đúng dạng YYYY-MM-DDThh:mm:ss±hh:mm`,
      { field, value: value.slice(0, 40) },
    );
  // a calendar check: 2026-02-30 must not roll over into March
  const [, y, mo, d] = m;
  const local = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (local.getUTCMonth() !== Number(mo) - 1 || local.getUTCDate() !== Number(d))
    fail('CAP_BAD_DATE', `CAP: ngày "${value.slice(0, 40)}" ở ${field} không tồn tại`, {
      field,
      value: value.slice(0, 40),
    });
  return value;
}

const ENTITY_RE = /&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the predefined entities and character references; nothing else is an entity here. */
function decodeText(s: string): string {
  const bad = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)[^\s;]{0,20};?/.exec(s);
  if (bad)
    fail(
      'CAP_MALFORMED',
      `CAP: thực thể XML "${bad[0]}" không được khai báo (chỉ chấp nhận &amp; &lt; &gt; &quot; &apos;)`,
    );
  return s.replace(ENTITY_RE, (_m, e: string) => {
    if (e in NAMED) return NAMED[e] as string;
    const cp = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}

type Node = Record<string, unknown>;

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    return decodeText(String(v)).trim();
  if (typeof v === 'object' && '#text' in (v as Node)) return text((v as Node)['#text']);
  if (typeof v === 'object') return '';
  return undefined;
}

function req(n: Node, key: string, where: string): string {
  const v = text(n[key]);
  if (v === undefined || v === '')
    fail('CAP_FIELD_MISSING', `CAP: thiếu trường bắt buộc <${key}> trong <${where}>`, {
      field: `${where}.${key}`,
    });
  return v;
}

function opt(n: Node, key: string): string | undefined {
  const v = text(n[key]);
  return v === undefined || v === '' ? undefined : v;
}

function list(n: Node, key: string): unknown[] {
  const v = n[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value))
    fail(
      'CAP_FIELD_INVALID',
      `CAP: giá trị "${value.slice(0, 40)}" của <${field}> không hợp lệ (${allowed.join(', ')})`,
      {
        field,
        value: value.slice(0, 40),
        allowed,
      },
    );
  return value as T;
}

function pairs(n: Node, key: string, where: string): CapValuePair[] {
  return list(n, key).map((p) => {
    const o = (typeof p === 'object' && p ? p : {}) as Node;
    return { valueName: req(o, 'valueName', `${where}.${key}`), value: text(o.value) ?? '' };
  });
}

function point(s: string, field: string): LatLon {
  const [a, b, extra] = s.split(',');
  const lat = Number(a);
  const lon = Number(b);
  if (
    extra !== undefined ||
    a === undefined ||
    b === undefined ||
    !Number.isFinite(lat) ||
    !Number.isFinite(lon) ||
    Math.abs(lat) > 90 ||
    Math.abs(lon) > 180
  )
    fail(
      'CAP_BAD_GEOMETRY',
      `CAP: tọa độ "${s.slice(0, 40)}" trong <${field}> không hợp lệ (vĩ độ,kinh độ)`,
      {
        field,
      },
    );
  return [lat, lon];
}

function polygon(s: string): LatLon[] {
  const pts = s
    .trim()
    .split(/\s+/)
    .map((p) => point(p, 'polygon'));
  const first = pts[0];
  const last = pts.at(-1);
  if (pts.length < 4 || !first || !last || first[0] !== last[0] || first[1] !== last[1])
    fail('CAP_BAD_GEOMETRY', 'CAP: <polygon> cần ít nhất 4 điểm và điểm cuối trùng điểm đầu');
  return pts;
}

function circle(s: string): { center: LatLon; radiusKm: number } {
  const [c, r, extra] = s.trim().split(/\s+/);
  const radiusKm = Number(r);
  if (!c || extra !== undefined || !Number.isFinite(radiusKm) || radiusKm < 0)
    fail('CAP_BAD_GEOMETRY', `CAP: <circle> "${s.slice(0, 40)}" không hợp lệ (vĩ độ,kinh độ bán_kính_km)`);
  return { center: point(c, 'circle'), radiusKm };
}

function parseArea(a: Node): CapArea {
  return {
    areaDesc: req(a, 'areaDesc', 'area'),
    polygons: list(a, 'polygon').map((p) => polygon(text(p) ?? '')),
    circles: list(a, 'circle').map((p) => circle(text(p) ?? '')),
    geocodes: pairs(a, 'geocode', 'area'),
  };
}

function parseInfo(i: Node): CapInfo {
  const categories = list(i, 'category').map((c) => oneOf(text(c) ?? '', CAP_CATEGORY, 'category'));
  if (categories.length === 0)
    fail('CAP_FIELD_MISSING', 'CAP: thiếu trường bắt buộc <category> trong <info>');
  const date = (k: string) => {
    const v = opt(i, k);
    return v === undefined ? {} : { [k]: parseCapDate(v, `info.${k}`) };
  };
  const out: CapInfo = {
    language: opt(i, 'language') ?? 'en-US',
    categories,
    event: req(i, 'event', 'info'),
    urgency: oneOf(req(i, 'urgency', 'info'), CAP_URGENCY, 'urgency'),
    severity: oneOf(req(i, 'severity', 'info'), CAP_SEVERITY, 'severity'),
    certainty: oneOf(req(i, 'certainty', 'info'), CAP_CERTAINTY, 'certainty'),
    ...date('effective'),
    ...date('onset'),
    ...date('expires'),
    parameters: pairs(i, 'parameter', 'info'),
    areas: list(i, 'area').map((a) => parseArea((a ?? {}) as Node)),
  };
  for (const k of ['senderName', 'headline', 'description', 'instruction'] as const) {
    const v = opt(i, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** "sender,identifier,sent" triples separated by whitespace. */
export function parseReferences(s: string): CapReference[] {
  return s
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((r) => {
      const parts = r.split(',');
      if (parts.length !== 3 || parts.some((p) => p === ''))
        fail(
          'CAP_FIELD_INVALID',
          `CAP: tham chiếu "${r.slice(0, 80)}" trong <references> phải là người gửi,mã,thời điểm`,
          {
            field: 'references',
          },
        );
      const [sender, identifier, sent] = parts as [string, string, string];
      return { sender, identifier, sent: parseCapDate(sent, 'references') };
    });
}

const CAP_ID_RE = /^[^\s,<&]{1,200}$/;

/** Parses and checks a CAP 1.2 document. Throws a LoaError (CAP_*) on the first problem. */
export function parseCap(xml: string): CapAlert {
  if (Buffer.byteLength(xml, 'utf8') > CAP_MAX_BYTES)
    fail('CAP_TOO_LARGE', `CAP: tài liệu vượt quá ${CAP_MAX_BYTES} byte`, { maxBytes: CAP_MAX_BYTES });
  // A DTD can declare entities (the "billion laughs" bomb, external files): CAP needs none.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    fail(
      'CAP_DTD_FORBIDDEN',
      'CAP: tài liệu có khai báo DOCTYPE/ENTITY; không được phép (chống bom thực thể XML)',
    );
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    fail('CAP_MALFORMED', `CAP: XML không hợp lệ (dòng ${valid.err.line}): ${valid.err.msg}`, {
      line: valid.err.line,
      col: valid.err.col,
    });
  const options = {
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
  };
  let raw: Node;
  let doc: Node;
  try {
    // once as written (the namespace declarations), once without prefixes (the content)
    raw = new XMLParser({ ...options, removeNSPrefix: false }).parse(xml) as Node;
    doc = new XMLParser({ ...options, removeNSPrefix: true }).parse(xml) as Node;
  } catch (cause) {
    throw new LoaError('CAP_MALFORMED', 'CAP: XML không đọc được', { cause });
  }
  const rootName = Object.keys(raw).find((k) => !k.startsWith('?')) ?? '';
  const [prefix, local] = rootName.includes(':') ? rootName.split(':', 2) : ['', rootName];
  const rawRoot = raw[rootName];
  const root = local === 'alert' ? doc.alert : undefined;
  if (!root || typeof root !== 'object' || Array.isArray(root) || !rawRoot || typeof rawRoot !== 'object')
    fail('CAP_NOT_CAP', `CAP: phần tử gốc phải là <alert> (gặp <${rootName.slice(0, 40)}>)`);
  const a = root as Node;
  const ns = (rawRoot as Node)[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
  if (ns !== CAP_NAMESPACE)
    fail('CAP_NOT_CAP', `CAP: <alert> phải thuộc không gian tên ${CAP_NAMESPACE} (CAP 1.2)`, {
      namespace: typeof ns === 'string' ? ns.slice(0, 100) : null,
    });

  const identifier = req(a, 'identifier', 'alert');
  const sender = req(a, 'sender', 'alert');
  if (!CAP_ID_RE.test(identifier))
    fail('CAP_FIELD_INVALID', 'CAP: <identifier> không được chứa khoảng trắng, dấu phẩy, "<" hay "&"', {
      field: 'identifier',
    });
  if (!CAP_ID_RE.test(sender))
    fail('CAP_FIELD_INVALID', 'CAP: <sender> không được chứa khoảng trắng, dấu phẩy, "<" hay "&"', {
      field: 'sender',
    });
  const msgType = oneOf(req(a, 'msgType', 'alert'), CAP_MSG_TYPE, 'msgType');
  const refText = opt(a, 'references');
  const references = refText ? parseReferences(refText) : [];
  if ((msgType === 'Update' || msgType === 'Cancel') && references.length === 0)
    fail('CAP_FIELD_MISSING', `CAP: <msgType>${msgType}</msgType> cần <references> tới cảnh báo trước`, {
      field: 'alert.references',
    });
  const alert: CapAlert = {
    identifier,
    sender,
    sent: parseCapDate(req(a, 'sent', 'alert'), 'alert.sent'),
    status: oneOf(req(a, 'status', 'alert'), CAP_STATUS, 'status'),
    msgType,
    scope: oneOf(req(a, 'scope', 'alert'), CAP_SCOPE, 'scope'),
    references,
    infos: list(a, 'info').map((i) => parseInfo((i ?? {}) as Node)),
  };
  const source = opt(a, 'source');
  if (source) alert.source = source;
  const note = opt(a, 'note');
  if (note) alert.note = note;
  return alert;
}

/** The key that identifies an alert across systems (CAP: sender + identifier). */
export function capKey(a: { sender: string; identifier: string }): string {
  return `${a.sender},${a.identifier}`;
}
