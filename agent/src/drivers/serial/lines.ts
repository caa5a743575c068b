/** Shared by serial transports: a bounded line splitter. */

/** Splits bytes into lines at '\n' (dropping '\r'); caps a line, discarding what overflows. */
export class LineSplitter {
  private buf = '';
  private overflow = false;
  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== '\n') continue;
      this.append(text.slice(start, i));
      this.flush();
      start = i + 1;
    }
    this.append(text.slice(start));
  }

  private append(part: string): void {
    if (this.overflow) return;
    this.buf += part;
    if (this.buf.length > this.maxLineBytes) {
      this.buf = '';
      this.overflow = true;
    }
  }

  private flush(): void {
    const line = this.buf.replace(/\r/g, '').trim();
    const dropped = this.overflow;
    this.buf = '';
    this.overflow = false;
    if (!dropped && line.length > 0) this.onLine(line);
  }
}
