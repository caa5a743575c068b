/**
 * USB stick without a shell: udev and loa-usb@.service mount an inserted stick read-only under
 * a watched directory (images/: /run/loa/usb/<device>); this service finds bundle tars there
 * (what `loa bundle pack` makes, at the top of the stick or one folder down), imports each one
 * through the bundle store (signatures, hashes, version, target: the same checks as a download),
 * and reports each result in health (usbImport), in the log, and by a short signal from the
 * speaker: two short high beeps when a bundle was taken, one long low tone when one was refused.
 * The directory is polled (a mount appearing under it is not reliably an inotify event).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, isLoaError } from '@loa/protocol';
import type { Logger } from 'pino';
import type { ActiveBundle, BundleStore } from './bundle-store.js';

export interface UsbImportResult {
  file: string;
  ok: boolean;
  code?: string;
  message?: string;
  bundleId?: string;
  channel?: string;
  version?: number;
  at: string;
}

export interface UsbImportOptions {
  /** The watched mount root (each stick is mounted in a folder under it). */
  dir: string;
  bundles: Pick<BundleStore, 'importPath'>;
  clock: Clock;
  logger: Logger;
  /** The spoken/beeped confirmation (player test tones on a station). */
  signal?: (ok: boolean) => void;
  reportError?: (code: string, message: string) => void;
  pollMs?: number;
}

export class UsbImport {
  private readonly log: Logger;
  private readonly seen = new Map<string, string>();
  private readonly results: UsbImportResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;

  constructor(private readonly o: UsbImportOptions) {
    this.log = o.logger.child({ module: 'usb-import' });
  }

  start(): void {
    const tick = () => {
      void this.scan().finally(() => {
        this.timer = setTimeout(tick, this.o.pollMs ?? 2000);
        this.timer.unref?.();
      });
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The latest results, newest first. */
  recent(): readonly UsbImportResult[] {
    return this.results;
  }

  /** Looks for new tars now (also what the poll does). */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async tars(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, depth: number) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.name.startsWith('.')) continue;
        const p = join(dir, e.name);
        if (e.isFile() && e.name.toLowerCase().endsWith('.tar')) out.push(p);
        else if (e.isDirectory() && depth < 2) await walk(p, depth + 1);
      }
    };
    await walk(this.o.dir, 0);
    return out;
  }

  private async scanOnce(): Promise<void> {
    const present = new Set<string>();
    for (const file of await this.tars()) {
      present.add(file);
      const st = await stat(file).catch(() => undefined);
      if (!st) continue;
      const key = `${st.size}:${st.mtimeMs}`;
      if (this.seen.get(file) === key) continue;
      this.seen.set(file, key);
      await this.importOne(file);
    }
    // a stick taken out and put back is looked at again
    for (const f of [...this.seen.keys()]) if (!present.has(f)) this.seen.delete(f);
  }

  /** Imports one tar now (the technician page's upload); the result is reported like a stick's. */
  importFile(file: string, name = file): Promise<UsbImportResult> {
    return this.importOne(file, name);
  }

  private async importOne(file: string, name = file): Promise<UsbImportResult> {
    const at = new Date(this.o.clock.now()).toISOString();
    let r: UsbImportResult;
    try {
      const b: ActiveBundle | undefined = await this.o.bundles.importPath(file);
      r = b
        ? { file: name, ok: true, bundleId: b.id, channel: b.channel, version: b.version, at }
        : { file: name, ok: true, message: 'đã có, không có gì mới', at };
      this.log.info({ file, bundle: b?.id, version: b?.version }, 'bundle imported from USB');
    } catch (e) {
      const code = isLoaError(e) ? e.code : 'USB_IMPORT_FAILED';
      const message = (e as Error).message.slice(0, 400);
      r = { file: name, ok: false, code, message, at };
      this.log.warn({ file, code, message }, 'bundle from USB refused');
      this.o.reportError?.(code, `USB ${file.split('/').at(-1)}: ${message}`);
    }
    this.results.unshift(r);
    this.results.splice(10);
    this.o.signal?.(r.ok);
    return r;
  }
}
