/**
 * The periodic report as a printable PDF in the Vietnamese administrative layout (Decree
 * 30/2020/NĐ-CP style): the issuing body and the number on the left, the national motto on the
 * right, place and date, the title, the figures as tables, and the recipients and signature block.
 * Text is set in DejaVu Serif (Debian's fonts-dejavu-core), embedded, so diacritics print anywhere.
 */
import { readFile } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import PDFDocument from 'pdfkit';
import type { EffectivenessReport } from '../domain/reports/effectiveness.js';
import { lowerFirst } from '../domain/reports/period.js';
import type { Table } from '../domain/reports/table.js';

export const REPORT_PDF_DEFAULTS = {
  font: '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
  boldFont: '/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf',
  italicFont: '/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf',
};

export interface ReportHeader {
  /** The body above the issuer, e.g. "UBND TỈNH TUYÊN QUANG" (may be empty). */
  parentBody: string;
  /** The issuer, e.g. "UBND XÃ TÂN TRÀO". */
  issuer: string;
  /** "05/BC-UBND" */
  number: string;
  /** Place for the date line, e.g. "Tân Trào". */
  place: string;
  /** Day of issue, Vietnamese calendar (YYYY-MM-DD). */
  day: string;
  title: string;
  subtitle: string;
  /** "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH" */
  signerBody: string;
  signerTitle: string;
  recipients: string[];
}

async function font(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new LoaError(
      'FONT_MISSING',
      `không đọc được phông chữ ${path} (cài gói Debian "fonts-dejavu-core")`,
      { cause },
    );
  }
}

const A4 = { w: 595.28, h: 841.89, left: 70, right: 50, top: 50, bottom: 50 };
/** The header's two blocks (issuer, national motto), wider than the text column. */
const HEAD = { left: 30, leftW: 200, rightX: 235, rightW: 330 };

function cellText(v: string | number | null, kind?: string): string {
  if (v === null) return '—';
  if (typeof v === 'number') {
    if (kind === 'percent') return `${(v * 100).toFixed(1).replace('.', ',')}%`;
    return Number.isInteger(v) ? v.toLocaleString('vi-VN') : v.toFixed(2).replace('.', ',');
  }
  return v;
}

function drawTable(doc: PDFKit.PDFDocument, t: Table, cols: number[] | undefined): void {
  const width = A4.w - A4.left - A4.right;
  const idx = cols ?? t.columns.map((_, i) => i);
  const w = width / idx.length;
  const rowH = (cells: string[], bold: boolean) => {
    doc.font(bold ? 'bold' : 'regular').fontSize(8.5);
    return Math.max(...cells.map((c) => doc.heightOfString(c, { width: w - 6 }))) + 6;
  };
  const drawRow = (cells: string[], bold: boolean) => {
    const h = rowH(cells, bold);
    if (doc.y + h > A4.h - A4.bottom) doc.addPage();
    const y = doc.y;
    cells.forEach((c, i) => {
      const x = A4.left + i * w;
      doc.rect(x, y, w, h).lineWidth(0.5).stroke();
      const num = !bold && (t.columns[idx[i] as number]?.kind ?? 'text') !== 'text';
      doc
        .font(bold ? 'bold' : 'regular')
        .fontSize(8.5)
        .text(c, x + 3, y + 3, { width: w - 6, align: num ? 'right' : bold ? 'center' : 'left' });
    });
    doc.x = A4.left;
    doc.y = y + h;
  };
  drawRow(
    idx.map((i) => t.columns[i]?.header ?? ''),
    true,
  );
  for (const r of t.rows)
    drawRow(
      idx.map((i) => cellText(r[i] ?? null, t.columns[i]?.kind)),
      false,
    );
  doc.moveDown(0.8);
}

export interface PdfSection {
  heading: string;
  paragraphs?: string[];
  table?: Table;
  columns?: number[];
}

/** Renders the report; resolves with the PDF bytes. */
export async function reportPdf(
  h: ReportHeader,
  sections: readonly PdfSection[],
  fonts: Partial<typeof REPORT_PDF_DEFAULTS> = {},
): Promise<Buffer> {
  const f = { ...REPORT_PDF_DEFAULTS, ...fonts };
  const [regular, bold, italic] = await Promise.all([font(f.font), font(f.boldFont), font(f.italicFont)]);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: A4.top, bottom: A4.bottom, left: A4.left, right: A4.right },
    info: {
      Title: `${h.title} ${h.subtitle}`,
      Author: h.issuer,
      Producer: 'Loa',
      CreationDate: new Date(`${h.day}T00:00:00+07:00`),
    },
  });
  doc.registerFont('regular', regular);
  doc.registerFont('bold', bold);
  doc.registerFont('italic', italic);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  // header: issuer (left), national motto (right)
  const { leftW, rightX, rightW } = HEAD;
  const top = A4.top;
  doc.font('regular').fontSize(11).text(h.parentBody, HEAD.left, top, { width: leftW, align: 'center' });
  doc.font('bold').fontSize(11).text(h.issuer, HEAD.left, doc.y, { width: leftW, align: 'center' });
  let ly = doc.y + 4;
  doc
    .moveTo(HEAD.left + leftW / 2 - 25, ly)
    .lineTo(HEAD.left + leftW / 2 + 25, ly)
    .lineWidth(0.6)
    .stroke();
  doc
    .font('regular')
    .fontSize(11)
    .text(`Số: ${h.number}`, HEAD.left, ly + 8, { width: leftW, align: 'center' });
  ly = doc.y;
  doc
    .font('bold')
    .fontSize(11)
    .text('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', rightX, top, { width: rightW, align: 'center' });
  doc
    .font('bold')
    .fontSize(12)
    .text('Độc lập - Tự do - Hạnh phúc', rightX, doc.y, { width: rightW, align: 'center' });
  const mottoW = doc.widthOfString('Độc lập - Tự do - Hạnh phúc');
  const my = doc.y + 1;
  doc
    .moveTo(rightX + (rightW - mottoW) / 2, my)
    .lineTo(rightX + (rightW + mottoW) / 2, my)
    .lineWidth(0.6)
    .stroke();
  const [y, m, d] = h.day.split('-');
  doc
    .font('italic')
    .fontSize(11)
    .text(`${h.place}, ngày ${d} tháng ${m} năm ${y}`, rightX, my + 8, { width: rightW, align: 'center' });
  doc.x = A4.left;
  doc.y = Math.max(ly, doc.y) + 24;

  // title
  const bodyW = A4.w - A4.left - A4.right;
  doc.font('bold').fontSize(14).text(h.title, A4.left, doc.y, { width: bodyW, align: 'center' });
  doc.font('bold').fontSize(12).text(h.subtitle, { width: bodyW, align: 'center' });
  doc.moveDown(1.2);

  for (const s of sections) {
    if (doc.y > A4.h - A4.bottom - 80) doc.addPage();
    doc.font('bold').fontSize(12).text(s.heading, A4.left, doc.y, { width: bodyW });
    doc.moveDown(0.3);
    for (const p of s.paragraphs ?? [])
      doc.font('regular').fontSize(11).text(p, { width: bodyW, align: 'justify', indent: 20 });
    if (s.paragraphs?.length) doc.moveDown(0.4);
    if (s.table && s.table.rows.length > 0) drawTable(doc, s.table, s.columns);
  }

  // recipients (left) and signature (right)
  if (doc.y > A4.h - A4.bottom - 150) doc.addPage();
  const sy = doc.y + 10;
  const recW = 200;
  const signX = A4.w - A4.right - 230;
  doc.font('bold').fontSize(10).text('Nơi nhận:', A4.left, sy, { width: recW });
  doc.font('regular').fontSize(9);
  for (const r of h.recipients) doc.text(`- ${r};`, { width: recW });
  doc.text('- Lưu: VT.', { width: recW });
  doc.font('bold').fontSize(11).text(h.signerBody, signX, sy, { width: 230, align: 'center' });
  doc.font('bold').fontSize(11).text(h.signerTitle, signX, doc.y, { width: 230, align: 'center' });
  doc
    .font('italic')
    .fontSize(10)
    .text('(Ký, ghi rõ họ tên, đóng dấu)', signX, doc.y, { width: 230, align: 'center' });
  doc.end();
  return done;
}

/** The sections of an effectiveness report, in the words of the official report. */
export function effectivenessSections(rep: EffectivenessReport, tables: Record<string, Table>): PdfSection[] {
  const t = rep.totals;
  const pct = (x: number | null) =>
    x === null ? 'chưa có số liệu' : `${(x * 100).toFixed(1).replace('.', ',')}%`;
  return [
    {
      heading: 'I. KẾT QUẢ CHUNG',
      paragraphs: [
        `Trong kỳ báo cáo (${lowerFirst(rep.period.name)}), trên địa bàn có ${t.stations} cụm loa ứng dụng công nghệ thông tin - viễn thông và ${t.noticeboards} bảng tin điện tử công cộng kết nối hệ thống thông tin nguồn.`,
        `Các cụm loa đã phát ${t.audio.done.toLocaleString('vi-VN')}/${t.audio.planned.toLocaleString('vi-VN')} lượt theo kế hoạch (${pct(t.audio.rate)}); bảng tin điện tử đã hiển thị ${t.display.done.toLocaleString('vi-VN')}/${t.display.planned.toLocaleString('vi-VN')} lượt (${pct(t.display.rate)}). Số liệu lấy từ xác nhận phát có chữ ký số của từng thiết bị.`,
        `Thông tin ưu tiên, khẩn cấp đến được ${t.essential.reached}/${t.essential.targeted} lượt cụm loa cần nhận (${pct(t.essential.share)}). Thời gian hoạt động của thiết bị đạt ${pct(t.uptime.uptime)}, với ${t.uptime.outages} lần mất kết nối; ${t.faults} sự cố kéo dài từ 5 phút trở lên.`,
        ...(rep.feedback
          ? [
              `Tiếp nhận ${rep.feedback.received} phản ánh, kiến nghị của người dân; đã trả lời ${rep.feedback.answered}.`,
            ]
          : []),
        ...(rep.training
          ? [
              `Có ${rep.training.trained}/${rep.training.staff} cán bộ làm công tác thông tin cơ sở đã được bồi dưỡng (${pct(rep.training.share)}); trong kỳ tổ chức ${rep.training.coursesInPeriod} khóa bồi dưỡng với ${rep.training.attendanceInPeriod} lượt cán bộ hoàn thành.`,
            ]
          : []),
      ],
      ...(tables.units ? { table: tables.units, columns: [1, 2, 3, 6, 9, 10, 11, 13] } : {}),
    },
    {
      heading: 'II. THÔNG TIN ƯU TIÊN, KHẨN CẤP',
      paragraphs: rep.essential.items.length === 0 ? ['Trong kỳ không có thông tin ưu tiên, khẩn cấp.'] : [],
      ...(tables.essential ? { table: tables.essential } : {}),
    },
    {
      heading: 'III. THỜI LƯỢNG THEO THỂ LOẠI VÀ NGÔN NGỮ',
      ...(tables.airtime ? { table: tables.airtime } : {}),
    },
    {
      heading: 'IV. SỰ CỐ',
      paragraphs: rep.faults.length === 0 ? ['Không ghi nhận sự cố.'] : [],
      ...(tables.faults ? { table: tables.faults } : {}),
    },
    ...(tables.kpi
      ? [
          {
            heading: 'V. CHỈ TIÊU KẾ HOẠCH',
            paragraphs: [
              'Kết quả so với chỉ tiêu của kế hoạch; mỗi số liệu ghi rõ nguồn (chỉ tiêu hệ thống chưa đo được để trống).',
            ],
            table: tables.kpi,
          },
        ]
      : []),
    ...(tables.training && tables.training.rows.length > 0
      ? [
          {
            heading: 'VI. CÁN BỘ CHƯA ĐƯỢC BỒI DƯỠNG',
            table: tables.training,
          },
        ]
      : []),
  ];
}
