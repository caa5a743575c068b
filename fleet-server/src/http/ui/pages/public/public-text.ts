/** Texts of the citizens' pages: Vietnamese first, English switchable (`?lang=en`). */
export type PublicLang = 'vi' | 'en';

const vi = {
  'site.title': 'Thông tin cơ sở',
  'site.lang': 'English',
  'emg.heading': 'Cảnh báo khẩn cấp',
  'emg.none': 'Không có cảnh báo khẩn cấp.',
  'emg.sent': 'Phát lúc {at}',
  'emg.until': 'Hiệu lực đến {at}',
  'push.on': 'Nhận thông báo khẩn cấp',
  'push.done': 'Đã bật thông báo khẩn cấp trên máy này.',
  'push.fail': 'Máy này không nhận được thông báo; trang sẽ tự hiện cảnh báo khi đang mở.',
  'prog.heading': 'Lịch phát hôm nay',
  'prog.none': 'Hôm nay chưa có chương trình công khai.',
  'news.heading': 'Bản tin',
  'news.today': 'Hôm nay',
  'news.none': 'Chưa có bản tin công khai.',
  'news.more': 'Bản tin cũ hơn',
  'news.newer': 'Bản tin mới hơn',
  'filter.lang': 'Ngôn ngữ',
  'filter.cat': 'Chuyên mục',
  'filter.all': 'Tất cả',
  'filter.apply': 'Lọc',
  'rate.label': 'Đánh giá bản tin',
  'rate.send': 'Gửi đánh giá',
  'rate.thanks': 'Cảm ơn bạn đã đánh giá.',
  'survey.send': 'Gửi ý kiến',
  'map.heading': 'Cụm loa của xã',
  'map.onAir': 'Đang phát',
  'map.online': 'Đang kết nối',
  'map.offline': 'Mất kết nối',
  'map.none': 'Chưa có vị trí cụm loa.',
  'answers.heading': 'Trả lời phản ánh',
  'fb.link': 'Gửi phản ánh, kiến nghị',
  'fb.heading': 'Phản ánh, kiến nghị',
  'fb.intro': 'Gửi câu hỏi, phản ánh hoặc báo loa hỏng tới {unit}. Không bắt buộc để lại thông tin liên lạc.',
  'fb.topic': 'Chủ đề',
  'fb.text': 'Nội dung',
  'fb.photo': 'Ảnh (không bắt buộc, tối đa {mb} MB)',
  'fb.contact': 'Số điện thoại hoặc thư điện tử để nhận trả lời (không bắt buộc)',
  'fb.send': 'Gửi phản ánh',
  'fb.working': 'Đang chuẩn bị gửi…',
  'fb.nojs': 'Trình duyệt cần bật JavaScript để gửi (chống thư rác).',
  'fb.sent': 'Đã nhận phản ánh của bạn. Mã số: {id}. Xã sẽ trả lời trước {due}.',
  'fb.back': 'Về trang của xã',
  'topic.question': 'Hỏi đáp',
  'topic.complaint': 'Khiếu nại, phản ánh',
  'topic.speaker': 'Loa hỏng, nghe không rõ',
  'topic.suggestion': 'Kiến nghị, góp ý',
  'topic.policy': 'Đánh giá thực hiện chính sách',
  'topic.other': 'Khác',
  offline: 'Đang ngoại tuyến: đây là nội dung đã lưu.',
  footer: 'Trang công khai của hệ thống thông tin cơ sở. Không theo dõi người xem.',
  'cat.emergency': 'Khẩn cấp',
  'cat.phan-hoi': 'Trả lời phản ánh',
  'cat.news': 'Tin tức',
  'cat.policy': 'Chính sách, pháp luật',
  'cat.agriculture': 'Nông nghiệp',
  'cat.health': 'Y tế',
  'cat.disaster': 'Phòng chống thiên tai',
  'cat.culture': 'Văn hóa',
  'cat.announcement': 'Thông báo',
  'cat.ticker': 'Dòng chữ chạy',
  'cat.other': 'Khác',
};
type Key = keyof typeof vi;

const en: Record<Key, string> = {
  'site.title': 'Local information',
  'site.lang': 'Tiếng Việt',
  'emg.heading': 'Emergency alerts',
  'emg.none': 'No emergency alert.',
  'emg.sent': 'Sent at {at}',
  'emg.until': 'In force until {at}',
  'push.on': 'Get emergency notifications',
  'push.done': 'Emergency notifications are on for this device.',
  'push.fail': 'This device cannot get notifications; the page shows alerts while it is open.',
  'prog.heading': "Today's programme",
  'prog.none': 'No public programme today.',
  'news.heading': 'Bulletins',
  'news.today': 'Today',
  'news.none': 'No public bulletin yet.',
  'news.more': 'Older bulletins',
  'news.newer': 'Newer bulletins',
  'filter.lang': 'Language',
  'filter.cat': 'Category',
  'filter.all': 'All',
  'filter.apply': 'Filter',
  'rate.label': 'Rate this bulletin',
  'rate.send': 'Send rating',
  'rate.thanks': 'Thank you for your rating.',
  'survey.send': 'Send answer',
  'map.heading': "The commune's loudspeakers",
  'map.onAir': 'On air',
  'map.online': 'Connected',
  'map.offline': 'Offline',
  'map.none': 'No loudspeaker location yet.',
  'answers.heading': 'Answers to feedback',
  'fb.link': 'Send feedback or a question',
  'fb.heading': 'Feedback and questions',
  'fb.intro': 'Send a question, feedback or a broken-speaker report to {unit}. Contact details are optional.',
  'fb.topic': 'Topic',
  'fb.text': 'Message',
  'fb.photo': 'Photo (optional, up to {mb} MB)',
  'fb.contact': 'Phone or e-mail for the answer (optional)',
  'fb.send': 'Send',
  'fb.working': 'Preparing to send…',
  'fb.nojs': 'Sending needs JavaScript (spam protection).',
  'fb.sent': 'Your feedback was received. Number: {id}. The commune will answer before {due}.',
  'fb.back': "Back to the commune's page",
  'topic.question': 'Question',
  'topic.complaint': 'Complaint',
  'topic.speaker': 'Broken or unclear loudspeaker',
  'topic.suggestion': 'Suggestion',
  'topic.policy': 'How a policy is carried out',
  'topic.other': 'Other',
  offline: 'Offline: this is saved content.',
  footer: 'Public page of the grassroots information system. No tracking.',
  'cat.emergency': 'Emergency',
  'cat.phan-hoi': 'Answer to feedback',
  'cat.news': 'News',
  'cat.policy': 'Policy and law',
  'cat.agriculture': 'Agriculture',
  'cat.health': 'Health',
  'cat.disaster': 'Disaster prevention',
  'cat.culture': 'Culture',
  'cat.announcement': 'Announcement',
  'cat.ticker': 'Ticker line',
  'cat.other': 'Other',
};

export type PT = (key: Key, params?: Record<string, string | number>) => string;

export function publicT(lang: PublicLang): PT {
  const table: Record<Key, string> = lang === 'en' ? en : vi;
  return (key, params) =>
    params
      ? table[key].replace(/\{(\w+)\}/g, (m, n: string) => (n in params ? String(params[n]) : m))
      : table[key];
}

export function publicLang(q: string | undefined): PublicLang {
  return q === 'en' ? 'en' : 'vi';
}

/** "07/12/2026 05:30" in Vietnam time (+07:00). */
export function localTime(iso: string, withDate = true): string {
  const d = new Date(Date.parse(iso) + 7 * 3600_000).toISOString();
  const hm = d.slice(11, 16);
  return withDate ? `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)} ${hm}` : hm;
}

/** A category's name in the page's language; a unit's own category (no name here) as it is. */
export function categoryLabel(t: PT, cat: string): string {
  const key = `cat.${cat}`;
  return Object.hasOwn(vi, key) ? t(key as Key) : cat;
}
