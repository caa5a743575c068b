/**
 * Vietnamese names of what reports show an official: content categories, outputs, alert rules,
 * languages and priorities. A slug without a name is shown as it is (and never hidden).
 */
export const CATEGORY_NAMES_VI: Readonly<Record<string, string>> = {
  news: 'Tin tức',
  policy: 'Chính sách, pháp luật',
  agriculture: 'Nông nghiệp',
  health: 'Y tế',
  disaster: 'Phòng chống thiên tai',
  culture: 'Văn hóa',
  announcement: 'Thông báo',
  emergency: 'Tin khẩn cấp',
  other: 'Khác',
};

export const OUTPUT_NAMES_VI = { audio: 'Loa', display: 'Bảng tin' } as const;

export const ALERT_NAMES_VI: Readonly<Record<string, string>> = {
  offline: 'Mất kết nối',
  'amp-fault': 'Lỗi ampli',
  'mains-lost': 'Mất điện lưới',
  'door-open': 'Cửa tủ mở',
  'weak-signal': 'Sóng yếu',
  'clock-untrusted': 'Đồng hồ chưa tin cậy',
  'dead-air': 'Im lặng bất thường',
  'playback-failed': 'Phát thất bại',
  'disk-low': 'Sắp đầy bộ nhớ',
};

export const LANGUAGE_NAMES_VI: Readonly<Record<string, string>> = {
  vi: 'Tiếng Việt',
  'vi-VN': 'Tiếng Việt',
  hmn: "Tiếng H'Mông",
  tay: 'Tiếng Tày',
  nod: 'Tiếng Thái',
  km: 'Tiếng Khmer',
  cjm: 'Tiếng Chăm',
  ede: 'Tiếng Ê Đê',
  jra: 'Tiếng Gia Rai',
  bdq: 'Tiếng Ba Na',
  zh: 'Tiếng Hoa',
  en: 'Tiếng Anh',
};

export const PRIORITY_NAMES_VI = {
  normal: 'Thông thường',
  priority: 'Ưu tiên',
  emergency: 'Khẩn cấp',
} as const;

const named = (map: Readonly<Record<string, string>>, key: string | undefined, none = '—') =>
  key === undefined || key === '' ? none : (map[key] ?? key);

export const categoryName = (c: string | undefined): string => named(CATEGORY_NAMES_VI, c, 'Chưa phân loại');
export const languageName = (l: string | undefined): string => named(LANGUAGE_NAMES_VI, l, 'Không rõ');
export const alertName = (r: string): string => named(ALERT_NAMES_VI, r);
