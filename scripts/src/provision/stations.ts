/**
 * The stations of a provisioning run, from a CSV a technician fills in a spreadsheet:
 *
 *     label,unit,latitude,longitude,profile[,station_id][,place]
 *     Cụm loa chợ Sơn Dương,08/02500,21.6414,105.3997,pi4-relay-ec25,,Chợ trung tâm
 *
 * Every line is checked and every problem is reported with its line number; nothing is made
 * unless all lines are right. A station id is derived from the commune code and the label
 * (st-02500-cum-loa-cho-son-duong) unless the CSV gives one.
 */
import { IdSchema, LoaError, ProfileIdSchema, UnitPathSchema } from '@loa/protocol';
import { parseCsv } from './csv.js';

export interface StationRow {
  line: number;
  stationId: string;
  label: string;
  unit: string;
  lat: number;
  lon: number;
  profile: string;
  place?: string;
}

const REQUIRED = ['label', 'unit', 'latitude', 'longitude', 'profile'] as const;
const OPTIONAL = ['station_id', 'place'] as const;

/** Vietnamese text to an ASCII slug: "Cụm loa chợ Sơn Dương" → "cum-loa-cho-son-duong". */
export function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
}

export class StationCsvError extends LoaError {
  constructor(readonly problems: string[]) {
    super(
      'PROVISION_CSV_INVALID',
      `tệp danh sách trạm có ${problems.length} lỗi:\n  ${problems.join('\n  ')}`,
      {
        details: { problems },
      },
    );
  }
}

/**
 * Parses and checks the CSV. `knownProfiles`, when given, is the set of hardware profiles the
 * image knows (images/profiles/*.json).
 */
export function parseStations(text: string, knownProfiles?: ReadonlySet<string>): StationRow[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof LoaError) throw new StationCsvError([e.message]);
    throw e;
  }
  const header = records.shift();
  if (!header)
    throw new StationCsvError(['tệp rỗng: cần dòng tiêu đề label,unit,latitude,longitude,profile']);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const problems: string[] = [];
  const missing = REQUIRED.filter((r) => !names.includes(r));
  if (missing.length > 0) problems.push(`dòng ${header.line}: thiếu cột ${missing.join(', ')}`);
  const unknown = names.filter(
    (n) => !(REQUIRED as readonly string[]).includes(n) && !(OPTIONAL as readonly string[]).includes(n),
  );
  if (unknown.length > 0)
    problems.push(
      `dòng ${header.line}: cột không dùng được: ${unknown.join(', ')} (chỉ nhận ${[...REQUIRED, ...OPTIONAL].join(', ')})`,
    );
  if (problems.length > 0) throw new StationCsvError(problems);
  if (records.length === 0) throw new StationCsvError(['không có trạm nào (chỉ có dòng tiêu đề)']);
  const col = (r: string[], name: string) => {
    const i = names.indexOf(name);
    return i < 0 ? '' : (r[i] ?? '').trim();
  };
  const rows: StationRow[] = [];
  const ids = new Map<string, number>();
  const labels = new Map<string, number>();
  for (const rec of records) {
    const bad: string[] = [];
    const at = `dòng ${rec.line}`;
    if (rec.fields.length !== names.length)
      bad.push(
        `có ${rec.fields.length} cột thay vì ${names.length} (dấu phẩy trong tên cần đặt trong ngoặc kép)`,
      );
    const label = col(rec.fields, 'label');
    if (!label) bad.push('label: không được để trống');
    else if (label.length > 200) bad.push('label: dài quá 200 ký tự');
    const unit = col(rec.fields, 'unit');
    if (!UnitPathSchema.safeParse(unit).success)
      bad.push(`unit: "${unit}" phải là mã đơn vị dạng 08/02500 (tỉnh/xã)`);
    const num = (name: string, min: number, max: number) => {
      const v = col(rec.fields, name);
      const n = Number(v.replace(',', '.'));
      if (v === '' || !Number.isFinite(n) || n < min || n > max) {
        bad.push(`${name}: "${v}" phải là số từ ${min} đến ${max}`);
        return Number.NaN;
      }
      return n;
    };
    const lat = num('latitude', -90, 90);
    const lon = num('longitude', -180, 180);
    const profile = col(rec.fields, 'profile');
    if (!ProfileIdSchema.safeParse(profile).success)
      bad.push(`profile: "${profile}" không phải tên cấu hình phần cứng`);
    else if (knownProfiles && !knownProfiles.has(profile))
      bad.push(`profile: không có cấu hình "${profile}" (có: ${[...knownProfiles].sort().join(', ')})`);
    const given = col(rec.fields, 'station_id');
    const commune = unit.split('/').at(-1) ?? '';
    const stationId = given || `st-${commune}-${slug(label) || 'tram'}`;
    if (!IdSchema.safeParse(stationId).success)
      bad.push(`station_id: "${stationId}" chỉ gồm chữ, số, ".", "_" hoặc "-"`);
    const seenId = ids.get(stationId);
    if (seenId !== undefined) bad.push(`mã trạm ${stationId} trùng với dòng ${seenId}`);
    const labelKey = `${unit}\u0000${label.toLowerCase()}`;
    const seenLabel = labels.get(labelKey);
    if (label && seenLabel !== undefined)
      bad.push(`tên trạm "${label}" trùng với dòng ${seenLabel} trong cùng đơn vị`);
    if (bad.length > 0) {
      problems.push(...bad.map((b) => `${at}: ${b}`));
      continue;
    }
    ids.set(stationId, rec.line);
    labels.set(labelKey, rec.line);
    const place = col(rec.fields, 'place');
    rows.push({ line: rec.line, stationId, label, unit, lat, lon, profile, ...(place ? { place } : {}) });
  }
  if (problems.length > 0) throw new StationCsvError(problems);
  return rows;
}
