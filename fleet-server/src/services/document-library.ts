/**
 * The document library: decrees, plans, guides, training material and templates staff need.
 * Files are kept content-addressed under the data directory (crash-safe writes, checked against
 * their hash when read back), their records in the store. A file is taken only when its bytes are
 * a PDF or an office document (never on its name or declared type alone) and within the size cap.
 * Uploads and removals are audited.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, LoaError } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { withDefaults } from '../defaults.js';
import {
  type DocumentMeta,
  DocumentMetaSchema,
  type DocumentRecord,
  documentVisible,
  matchesQuery,
  sniffDocument,
} from '../domain/documents.js';
import { type Principal, requireScope } from '../domain/rbac.js';
import type { Store } from '../store/ports.js';

export const DOCUMENT_DEFAULTS = {
  /** Largest file taken (bytes). */
  maxBytes: 25 * 1024 * 1024,
};

export type DocumentActor = Principal & { ip?: string | undefined; via?: 'token' | 'session' | undefined };

export class DocumentLibrary {
  readonly maxBytes: number;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #dir: string;

  constructor(o: { store: Store; clock: Clock; dir: string; maxBytes?: number }) {
    this.#store = o.store;
    this.#clock = o.clock;
    this.#dir = o.dir;
    this.maxBytes = withDefaults(DOCUMENT_DEFAULTS, o).maxBytes;
  }

  async #audit(a: DocumentActor, action: string, d: DocumentRecord) {
    await this.#store.audit.append({
      actor: { type: a.via === 'token' ? 'token' : 'user', id: a.id, name: a.username },
      action,
      target: { type: 'document', id: d.id },
      unit: d.unit,
      ...(a.ip ? { ip: a.ip } : {}),
      details: { title: d.title, sha256: d.file.sha256, bytes: d.file.bytes },
    });
  }

  /**
   * Checks the metadata, the size and the bytes, stores the file and its record. Codes:
   * DOCUMENT_INVALID (metadata), DOCUMENT_EMPTY, DOCUMENT_TOO_LARGE, DOCUMENT_TYPE_REFUSED.
   */
  async upload(actor: DocumentActor, meta: unknown, data: Buffer): Promise<DocumentRecord> {
    const m = DocumentMetaSchema.safeParse(meta);
    if (!m.success)
      throw new LoaError(
        'DOCUMENT_INVALID',
        `thông tin văn bản không hợp lệ: ${m.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
        {
          details: {
            issues: m.error.issues
              .slice(0, 20)
              .map((i) => ({ path: i.path.map(String), message: i.message })),
          },
        },
      );
    requireScope(actor, m.data.unit);
    if (!(await this.#store.units.get(m.data.unit)))
      throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${m.data.unit}`);
    if (data.length === 0) throw new LoaError('DOCUMENT_EMPTY', 'tệp rỗng');
    if (data.length > this.maxBytes)
      throw new LoaError('DOCUMENT_TOO_LARGE', `tệp vượt quá ${Math.round(this.maxBytes / 1048576)} MB`, {
        details: { maxBytes: this.maxBytes, bytes: data.length },
      });
    const kind = sniffDocument(data, m.data.name);
    if (!kind)
      throw new LoaError(
        'DOCUMENT_TYPE_REFUSED',
        'chỉ nhận tệp PDF, Word, Excel, PowerPoint hoặc OpenDocument (nhận biết theo nội dung tệp)',
      );
    const sha256 = createHash('sha256').update(data).digest('hex');
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.#dir, sha256), data, { mode: 0o600 });
    const at = new Date(this.#clock.now()).toISOString();
    const rec: DocumentRecord = {
      ...m.data,
      id: randomUUID(),
      file: { sha256, bytes: data.length, type: kind.type, ext: kind.ext },
      uploadedBy: actor.username,
      createdAt: at,
      updatedAt: at,
    };
    await this.#store.documents.insert(rec);
    await this.#audit(actor, 'document.upload', rec);
    return rec;
  }

  /** Documents the reader sees (their units and those above), newest issue first. */
  async list(
    actor: DocumentActor,
    q: { q?: string; kind?: string; unit?: string } = {},
  ): Promise<DocumentRecord[]> {
    if (q.unit) requireScope(actor, q.unit);
    const scope = q.unit ? [q.unit] : actor.scope;
    return (
      await this.#store.documents.list(
        (d) =>
          documentVisible(scope, d.unit) && (!q.kind || d.kind === q.kind) && (!q.q || matchesQuery(d, q.q)),
      )
    ).sort((a, b) => b.issuedOn.localeCompare(a.issuedOn) || a.title.localeCompare(b.title, 'vi'));
  }

  async get(actor: DocumentActor, id: string): Promise<DocumentRecord> {
    const d = await this.#store.documents.get(id);
    if (!d || !documentVisible(actor.scope, d.unit))
      throw new LoaError('DOCUMENT_NOT_FOUND', `không có văn bản ${id}`);
    return d;
  }

  /** The stored file, checked against its recorded hash. */
  async file(actor: DocumentActor, id: string): Promise<{ record: DocumentRecord; data: Buffer }> {
    const record = await this.get(actor, id);
    const data = await readFile(join(this.#dir, record.file.sha256)).catch((cause) => {
      throw new LoaError('DOCUMENT_FILE_NOT_FOUND', 'không đọc được tệp của văn bản', { cause });
    });
    if (createHash('sha256').update(data).digest('hex') !== record.file.sha256)
      throw new LoaError('DOCUMENT_FILE_DAMAGED', 'tệp của văn bản không khớp mã băm đã ghi');
    return { record, data };
  }

  /** Removes a document (its unit's scope only); the file goes when no other record uses it. */
  async remove(actor: DocumentActor, id: string): Promise<void> {
    const d = await this.get(actor, id);
    requireScope(actor, d.unit);
    await this.#store.documents.delete(id);
    if ((await this.#store.documents.count((x) => x.file.sha256 === d.file.sha256)) === 0)
      await rm(join(this.#dir, d.file.sha256), { force: true });
    await this.#audit(actor, 'document.delete', d);
  }
}

export type { DocumentMeta };
