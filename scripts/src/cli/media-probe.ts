import { execFile } from 'node:child_process';

/**
 * Duration of an audio or video file in milliseconds, measured with ffprobe. Undefined when
 * ffprobe is not installed or cannot read the file (the manifest then carries no duration).
 */
export function probeDurationMs(path: string, ffprobe = 'ffprobe'): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      ffprobe,
      ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', path],
      { timeout: 60_000 },
      (err, stdout) => {
        if (err) {
          resolve(undefined);
          return;
        }
        const seconds = Number.parseFloat(stdout.trim());
        resolve(
          Number.isFinite(seconds) && seconds > 0 ? Math.max(1, Math.round(seconds * 1000)) : undefined,
        );
      },
    );
  });
}

/** An item id from a file name: ASCII letters, digits, ".", "_" and "-" (Vietnamese marks dropped). */
export function itemIdFromName(name: string): string {
  const base = name
    .replace(/\.[^.]*$/, '')
    .replace(/[đĐ]/g, (c) => (c === 'đ' ? 'd' : 'D'))
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100)
    .replace(/-+$/, '');
  return base === '' ? 'item' : base;
}
