/** Demo bulletins in Vietnamese, spoken with espeak-ng into WAV files (the server transcodes them). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LoaError } from '@loa/protocol';

const run = promisify(execFile);

export interface Bulletin {
  /** Item id in the manifest. */
  id: string;
  title: string;
  text: string;
  category: string;
}

export const MORNING: Bulletin = {
  id: 'ban-tin-sang',
  title: 'Bản tin sáng',
  category: 'news',
  text:
    'Đài truyền thanh xã xin kính chào bà con. Sau đây là bản tin sáng. ' +
    'Trung tâm khí tượng thủy văn tỉnh Tuyên Quang cho biết, hôm nay trời nhiều mây, có mưa rào rải rác, ' +
    'nhiệt độ từ hai mươi đến hai mươi sáu độ. Bà con chú ý chăm sóc lúa mùa và chống rét cho trâu bò.',
};

export const EVENING: Bulletin = {
  id: 'ban-tin-chieu',
  title: 'Bản tin chiều',
  category: 'announcement',
  text:
    'Ủy ban nhân dân xã thông báo. Từ ngày mai, trạm y tế xã tổ chức tiêm vắc xin cho trẻ em dưới năm tuổi. ' +
    'Đề nghị các gia đình đưa trẻ đến đúng giờ. Mùa khô đã đến, bà con lưu ý phòng chống cháy rừng.',
};

export const SOON: Bulletin = {
  id: 'thong-bao-thu',
  title: 'Thông báo thử nghiệm',
  category: 'announcement',
  text: 'Đây là bản tin thử nghiệm của hệ thống Loa. Chúc bà con một ngày tốt lành.',
};

export const NOTICE_TEXT = {
  title: 'Lịch tiêm chủng tháng này',
  text:
    'Trạm y tế xã tiêm vắc xin cho trẻ dưới 5 tuổi vào sáng thứ Bảy và Chủ nhật, từ 7 giờ 30. ' +
    'Mang theo sổ tiêm chủng. Phòng chống cháy rừng: không đốt nương, rẫy khi trời hanh khô.',
};

/** Speaks `text` with the Vietnamese espeak-ng voice into `dir/<id>.wav`. */
export async function speak(b: Bulletin, dir: string): Promise<string> {
  const out = join(dir, `${b.id}.wav`);
  try {
    await run('espeak-ng', ['-v', 'vi', '-s', '150', '-w', out, b.text], { timeout: 60_000 });
  } catch (cause) {
    throw new LoaError(
      'DEMO_TTS_FAILED',
      `espeak-ng không đọc được bản tin "${b.title}" (cần gói espeak-ng)`,
      {
        cause,
      },
    );
  }
  return out;
}
