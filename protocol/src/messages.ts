import { REASONS, type ReasonCode } from './errors.js';

/**
 * Vietnamese text for every reason code, for the CLI, the agent's technician page and the
 * dashboard. The codes themselves never change and are shown beside the text.
 */
export const REASONS_VI: Record<ReasonCode, string> = {
  MANIFEST_MALFORMED: 'tệp manifest không phải JSON hợp lệ hoặc sai cấu trúc gói nội dung',
  MANIFEST_TOO_LARGE: 'tệp manifest lớn hơn mức tối đa cho phép',
  FORMAT_UNSUPPORTED: 'phiên bản định dạng không được phần mềm này hỗ trợ',
  TRUST_MALFORMED: 'chính sách tin cậy không phải JSON hợp lệ hoặc sai cấu trúc',
  TRUST_ROOT_MISMATCH: 'chính sách tin cậy không được ký bởi khóa gốc đã cài trên thiết bị',
  TRUST_ROLLBACK: 'chính sách tin cậy cũ hơn chính sách đang cài',
  TRUST_EXPIRED: 'chính sách tin cậy đã hết hạn',
  KEY_UNKNOWN: 'có chữ ký bằng khóa không có trong chính sách tin cậy',
  SIGNATURE_INVALID: 'có chữ ký không khớp với nội dung (nội dung bị sửa hoặc chữ ký giả)',
  THRESHOLD_UNMET: 'chưa đủ số chữ ký của các khóa khác nhau được ủy quyền',
  ROLE_NOT_AUTHORISED: 'không khóa ký nào có vai trò mà nội dung này cần',
  SCOPE_NOT_COVERED: 'khóa ký không được phép phát tới mọi địa bàn đích',
  EXPIRED: 'nội dung đã hết hạn',
  NOT_YET_VALID: 'nội dung chưa đến thời gian có hiệu lực',
  VERSION_ROLLBACK: 'phiên bản không mới hơn phiên bản đang cài',
  VERSION_CONFLICT: 'đã cài một gói khác có cùng số phiên bản',
  TARGET_MISMATCH: 'gói nội dung không gửi tới thiết bị này',
  BLOB_MISSING: 'thiếu tệp được liệt kê trong manifest',
  BLOB_HASH_MISMATCH: 'tệp không khớp mã băm SHA-256 đã ký',
  BLOB_SIZE_MISMATCH: 'tệp không đúng kích thước đã ký',
  EXTRA_FILE: 'gói có tệp không được liệt kê trong manifest',
  TAR_UNSAFE_ENTRY: 'tệp nén chứa mục không an toàn (đường dẫn tuyệt đối, "..", liên kết hoặc tệp thiết bị)',
  TAR_MALFORMED: 'tệp nén bị hỏng hoặc không phải tệp tar',
  COMMAND_REPLAYED: 'lệnh này đã được thực hiện trước đó (phát lại lệnh cũ)',
  PROOF_CHAIN_BROKEN: 'bằng chứng phát không nối tiếp bằng chứng trước của thiết bị',
  RECALL_MALFORMED: 'lệnh gỡ chương trình không phải JSON hợp lệ hoặc sai cấu trúc',
  RECALL_MISMATCH: 'lệnh gỡ không khớp với gói tin này (mã, kênh, phiên bản)',
  BUNDLE_RECALLED: 'gói tin đã bị gỡ bằng lệnh gỡ có chữ ký',
  CHOICES_MALFORMED: 'lựa chọn chương trình của xã không hợp lệ hoặc sai cấu trúc',
};

export type Lang = 'vi' | 'en';

/** The generic text of a reason code in a language (Vietnamese by default). */
export function reasonText(code: ReasonCode, lang: Lang = 'vi'): string {
  return lang === 'en' ? REASONS[code] : REASONS_VI[code];
}

/** True when `code` is one of the protocol's reason codes. */
export function isReasonCode(code: string): code is ReasonCode {
  return Object.hasOwn(REASONS, code);
}
