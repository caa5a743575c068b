/**
 * The label sheet for a provisioning run: A4 pages of eight labels (2 × 4, dashed cut lines),
 * one per station, to stick inside the cabinet door. Each label has a QR code of the station's
 * page on the fleet server (`/ui/devices/<id>?unit=<unit>`: a phone camera opens it; the id and
 * unit read back from it) and, in words, the station's name, id, unit, position and hardware
 * profile. Text is set in DejaVu Sans (Debian's fonts-dejavu-core), embedded, so Vietnamese
 * diacritics print on any printer. The QR is drawn as vector squares (sharp at any scale).
 */
import { readFile } from 'node:fs/promises';
import { LoaError } from '@loa/protocol';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { StationRow } from './stations.js';

export const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
export const DEFAULT_BOLD_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** A4 in points; the grid of labels. */
export const PAGE = { width: 595.28, height: 841.89, margin: 28, cols: 2, rows: 4, header: 18 } as const;
export const PER_PAGE = PAGE.cols * PAGE.rows;

/** The box of label `i` (0-based, across pages) on its page, in points from the top left. */
export function labelBox(i: number): { page: number; x: number; y: number; w: number; h: number } {
  const w = (PAGE.width - 2 * PAGE.margin) / PAGE.cols;
  const h = (PAGE.height - 2 * PAGE.margin - PAGE.header) / PAGE.rows;
  const k = i % PER_PAGE;
  return {
    page: Math.floor(i / PER_PAGE),
    x: PAGE.margin + (k % PAGE.cols) * w,
    y: PAGE.margin + PAGE.header + Math.floor(k / PAGE.cols) * h,
    w,
    h,
  };
}

/** What a label's QR code says: the station's page on the fleet server. */
export function devicePageUrl(server: string, row: Pick<StationRow, 'stationId' | 'unit'>): string {
  return `${server.replace(/\/+$/, '')}/ui/devices/${encodeURIComponent(row.stationId)}?unit=${encodeURIComponent(row.unit)}`;
}

async function font(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new LoaError(
      'FONT_MISSING',
      `không đọc được phông chữ ${path} (cài gói Debian "fonts-dejavu-core" hoặc dùng --font)`,
      {
        cause,
      },
    );
  }
}

function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 4;
  const m = size / (n + 2 * quiet);
  doc.save().fillColor('black');
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) {
        c++;
        continue;
      }
      let end = c;
      while (end < n && qr.modules.get(r, end)) end++;
      doc.rect(x + (quiet + c) * m, y + (quiet + r) * m, (end - c) * m, m);
      c = end;
    }
  }
  doc.fill().restore();
}

export interface LabelSheetOptions {
  server: string;
  title: string;
  fontPath?: string;
  boldFontPath?: string;
  /** Creation date written in the PDF's metadata. */
  now: Date;
}

/** Renders the label sheet; resolves with the PDF bytes. */
export async function labelSheet(rows: readonly StationRow[], o: LabelSheetOptions): Promise<Buffer> {
  const regular = await font(o.fontPath ?? DEFAULT_FONT);
  const bold = await font(o.boldFontPath ?? (o.fontPath ? o.fontPath : DEFAULT_BOLD_FONT));
  const doc = new PDFDocument({
    size: 'A4',
    margin: 0,
    autoFirstPage: false,
    info: { Title: o.title, Creator: 'loa provision', CreationDate: o.now },
  });
  doc.registerFont('text', regular);
  doc.registerFont('bold', bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const pages = Math.ceil(rows.length / PER_PAGE);
  rows.forEach((row, i) => {
    const b = labelBox(i);
    if (i % PER_PAGE === 0) {
      doc.addPage({ size: 'A4', margin: 0 });
      doc
        .font('text')
        .fontSize(8)
        .fillColor('#444')
        .text(`${o.title} · trang ${b.page + 1}/${pages}`, PAGE.margin, PAGE.margin, {
          width: PAGE.width - 2 * PAGE.margin,
          lineBreak: false,
        });
    }
    doc
      .save()
      .lineWidth(0.5)
      .dash(4, { space: 3 })
      .strokeColor('#888')
      .rect(b.x, b.y, b.w, b.h)
      .stroke()
      .undash()
      .restore();
    const pad = 10;
    const qrSize = Math.min(b.h - 2 * pad - 14, b.w * 0.5);
    const url = devicePageUrl(o.server, row);
    drawQr(doc, url, b.x + pad, b.y + pad, qrSize);
    const tx = b.x + pad + qrSize + 6;
    const tw = b.x + b.w - pad - tx;
    doc
      .fillColor('black')
      .font('bold')
      .fontSize(11)
      .text(row.label, tx, b.y + pad + 4, { width: tw, height: 44, ellipsis: true });
    const facts: [string, string][] = [
      ['Mã trạm', row.stationId],
      ['Đơn vị', row.unit],
      ['Vị trí', `${row.lat.toFixed(5)}, ${row.lon.toFixed(5)}`],
      ...(row.place ? ([['Nơi đặt', row.place]] as [string, string][]) : []),
      ['Phần cứng', row.profile],
    ];
    let y = Math.max(doc.y + 4, b.y + pad + 36);
    for (const [k, v] of facts) {
      doc.font('text').fontSize(7).fillColor('#555').text(k, tx, y, { width: tw, lineBreak: false });
      // the station id is what a technician reads out on the phone: never cut, wrapped if long
      doc
        .font('bold')
        .fontSize(k === 'Mã trạm' ? 8 : 9)
        .fillColor('black');
      const hv = Math.min(doc.heightOfString(v, { width: tw }), 30);
      doc.text(v, tx, y + 8, { width: tw, height: hv + 1 });
      y += 10 + hv;
    }
    doc
      .font('text')
      .fontSize(6.5)
      .fillColor('#333')
      .text(url, b.x + pad, b.y + b.h - pad - 9, { width: b.w - 2 * pad, lineBreak: false, ellipsis: true });
  });
  doc.end();
  return done;
}
