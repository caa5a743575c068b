/**
 * Listen-again copies of public bulletins: the station file (Opus 48 kbit/s) transcoded once into
 * a small Opus file for phones (mono, 24 kbit/s VBR, speech-tuned), kept under
 * `<dataDir>/public-audio/<source sha256>.ogg` and served immutable. Concurrent first requests
 * share one transcode; a cache file is written atomically, so a crash leaves none or a whole one.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import { writeFileAtomic } from '@loa/protocol/fs';
import { withDefaults } from '../../defaults.js';
import type { BlobStore } from '../blob-store.js';
import { INPUT_GUARD } from '../media-intake.js';
import { runProcess, tail } from '../process-run.js';

export const PUBLIC_AUDIO_DEFAULTS = {
  ffmpeg: 'ffmpeg',
  bitrate: '24k',
  timeoutMs: 5 * 60_000,
};

export class PublicAudio {
  readonly #o: typeof PUBLIC_AUDIO_DEFAULTS;
  readonly #inflight = new Map<string, Promise<string>>();
  constructor(
    private readonly dir: string,
    private readonly blobs: BlobStore,
    opts: Partial<typeof PUBLIC_AUDIO_DEFAULTS> = {},
  ) {
    this.#o = withDefaults(PUBLIC_AUDIO_DEFAULTS, opts);
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.ogg`);
  }

  /** The small copy's path, transcoding it first when it is not there yet. */
  async ensure(sha256: string): Promise<{ path: string; size: number }> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new LoaError('AUDIO_NOT_FOUND', 'không có bản ghi âm này');
    const path = this.pathOf(sha256);
    const have = await stat(path).catch(() => undefined);
    if (have) return { path, size: have.size };
    let job = this.#inflight.get(sha256);
    if (!job) {
      job = this.#transcode(sha256, path).finally(() => this.#inflight.delete(sha256));
      this.#inflight.set(sha256, job);
    }
    await job;
    const st = await stat(path);
    return { path, size: st.size };
  }

  async #transcode(sha256: string, path: string): Promise<string> {
    if (!(await this.blobs.has(sha256))) throw new LoaError('AUDIO_NOT_FOUND', 'không có bản ghi âm này');
    const tmp = this.blobs.tempPath('.ogg');
    try {
      const r = await runProcess(
        this.#o.ffmpeg,
        [
          '-hide_banner',
          '-nostdin',
          '-v',
          'error',
          ...INPUT_GUARD,
          '-i',
          this.blobs.path(sha256),
          '-map',
          '0:a:0',
          '-map_metadata',
          '-1',
          '-ac',
          '1',
          '-c:a',
          'libopus',
          '-b:a',
          this.#o.bitrate,
          '-application',
          'voip',
          '-f',
          'ogg',
          '-y',
          tmp,
        ],
        { timeoutMs: this.#o.timeoutMs },
      );
      if (r.code !== 0)
        throw new LoaError('AUDIO_TRANSCODE_FAILED', 'Không chuyển được bản ghi âm', {
          details: { tool: tail(r.stderr) },
        });
      await writeFileAtomic(path, await readFile(tmp));
      return path;
    } finally {
      await this.blobs.removeTemp(tmp);
    }
  }
}
