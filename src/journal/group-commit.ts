// Group commit: writes that arrive in the same turn of the event loop share one transaction, and
// each caller's promise resolves only once that transaction is committed. Five hundred runs whose
// steps finish together pay for one commit, not five hundred; a lone sequential chain pays one
// event-loop hop. The durability rule is unchanged: nothing resolves before it is committed.

type Write = () => void;

/** Writes waiting beyond this many are committed at once rather than at the end of the turn. */
const MAX_GROUP = 512;

export class GroupCommit {
  private writes: Write[] = [];
  private settle: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;

  /** `transaction(work)` runs `work` inside one transaction (and throws if it rolled back). */
  constructor(private readonly transaction: (work: () => void) => void) {}

  get pending(): number {
    return this.writes.length;
  }

  write(work: Write): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writes.push(work);
      this.settle.push({ resolve, reject });
      if (this.writes.length >= MAX_GROUP) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every waiting write now (on close, and when the group is full). */
  flush(): void {
    this.scheduled = false;
    if (this.writes.length === 0) return;
    const writes = this.writes;
    const settle = this.settle;
    this.writes = [];
    this.settle = [];
    try {
      this.transaction(() => {
        for (const write of writes) write();
      });
      for (const s of settle) s.resolve();
    } catch {
      // One bad write must not fail its neighbours: commit them one by one, each on its own.
      writes.forEach((write, i) => {
        try {
          this.transaction(write);
          settle[i]?.resolve();
        } catch (error) {
          settle[i]?.reject(error);
        }
      });
    }
  }
}
