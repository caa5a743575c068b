import { describe, expect, it } from 'vitest';
import { documentVisible, matchesQuery, sniffDocument } from '../../../fleet-server/src/domain/documents.js';
import { docx, odt, pdf, xlsx, zip } from './office-files.js';

describe('document kinds from the bytes', () => {
  it('recognises PDF, DOCX, XLSX, ODT and legacy Office files', async () => {
    expect(sniffDocument(await pdf('Nghị định'), 'x.bin')).toEqual({ type: 'application/pdf', ext: 'pdf' });
    expect(sniffDocument(docx('Kế hoạch'), 'ke-hoach.docx')?.ext).toBe('docx');
    expect(sniffDocument(await xlsx(), 'bieu-mau.xlsx')?.ext).toBe('xlsx');
    expect(sniffDocument(odt('Hướng dẫn'), 'huong-dan.odt')).toEqual({
      type: 'application/vnd.oasis.opendocument.text',
      ext: 'odt',
    });
    const ole = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]);
    expect(sniffDocument(ole, 'cu.DOC')).toEqual({ type: 'application/msword', ext: 'doc' });
    expect(sniffDocument(ole, 'bang.xls')?.ext).toBe('xls');
  });

  it('refuses anything else, whatever its name says', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect(sniffDocument(png, 'anh.pdf')).toBeUndefined();
    expect(sniffDocument(Buffer.from('<html><script>alert(1)</script>'), 'trang.docx')).toBeUndefined();
    expect(sniffDocument(zip([['a.txt', 'không phải văn bản']]), 'nen.docx')).toBeUndefined();
    expect(sniffDocument(zip([['mimetype', 'application/epub+zip']]), 'sach.odt')).toBeUndefined();
    const ole = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]);
    expect(sniffDocument(ole, 'chay.exe')).toBeUndefined();
    expect(sniffDocument(Buffer.alloc(0), 'rong.pdf')).toBeUndefined();
  });
});

describe('who sees a document, and search', () => {
  it.each([
    [['08/02500'], '08', true], // the province's document reaches its communes
    [['08/02500'], '08/02500', true],
    [['08/02500'], '08/02503', false], // a neighbour's own
    [['08'], '08/02503', true],
    [['09'], '08', false],
    [['*'], '08/02503', true],
  ])('scope %j, document of %s: %s', (scope, unit, seen) => {
    expect(documentVisible(scope, unit)).toBe(seen);
  });

  it('matches every word without diacritics, in title, number, issuer or description', () => {
    const d = {
      title: 'Nghị định về hoạt động thông tin cơ sở',
      number: '49/2024/NĐ-CP',
      issuer: 'Chính phủ',
      description: 'Quy định nội dung, ngôn ngữ',
      name: 'nd-49.pdf',
    };
    expect(matchesQuery(d, 'nghi dinh thong tin')).toBe(true);
    expect(matchesQuery(d, '49/2024')).toBe(true);
    expect(matchesQuery(d, 'chinh phu ngon ngu')).toBe(true);
    expect(matchesQuery(d, 'thông tư')).toBe(false);
  });
});
