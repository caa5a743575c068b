/** A bounded in-memory copy of recent log lines (pino destination) for the technician page. */
export class LogRing {
  private readonly buf: string[] = [];
  constructor(private readonly max = 200) {}

  /** pino calls this with one JSON line per record. */
  write(line: string): void {
    let text = line.trim();
    try {
      const r = JSON.parse(text) as {
        time?: number;
        level?: number;
        msg?: string;
        module?: string;
        code?: string;
      };
      const t = r.time ? new Date(r.time).toISOString().slice(11, 19) : '';
      const lvl = (
        { 60: 'FATAL', 50: 'LỖI', 40: 'CẢNH BÁO', 30: 'TIN', 20: 'DEBUG', 10: 'TRACE' } as Record<
          number,
          string
        >
      )[r.level ?? 30];
      text = `${t} ${lvl} ${r.module ? `[${r.module}] ` : ''}${r.msg ?? ''}${r.code ? ` (${r.code})` : ''}`;
    } catch {
      // keep the raw line
    }
    this.buf.push(text.slice(0, 500));
    if (this.buf.length > this.max) this.buf.splice(0, this.buf.length - this.max);
  }

  lines(): readonly string[] {
    return this.buf;
  }
}
