/**
 * The ids of commands sent within the lookback window, loaded once from the audit log and kept up
 * to date as commands are sent. A station that answers made-up command ids then costs a set
 * lookup, never an audit log scan; only an id the server really sent (and no longer holds in
 * memory) is rebuilt from the log. Bounded: the oldest ids are forgotten first.
 */
export class SentCommandIds {
  private ids: Set<string> | undefined;
  private loading: Promise<Set<string>> | undefined;
  private readonly early: string[] = [];
  /** Audit log scans done (one, unless loading failed). */
  scans = 0;

  constructor(
    private readonly loadIds: () => Promise<Iterable<string>>,
    private readonly max = 200_000,
  ) {}

  private async all(): Promise<Set<string>> {
    if (this.ids) return this.ids;
    this.loading ??= (async () => {
      this.scans++;
      const set = new Set<string>(await this.loadIds());
      for (const id of this.early) set.add(id);
      this.early.length = 0;
      this.ids = set;
      this.trim();
      return set;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private trim(): void {
    if (!this.ids) return;
    while (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }

  async has(id: string): Promise<boolean> {
    return (await this.all()).has(id);
  }

  add(id: string): void {
    if (!this.ids) {
      this.early.push(id);
      return;
    }
    this.ids.add(id);
    this.trim();
  }
}
