// Journals finished batch items in groups: the items that finish in the same turn of the event loop
// go into one write, and never more than `maxPending` wait uncommitted — a worker that finds
// the buffer full waits for the flush (backpressure), so memory stays bounded whatever the batch size.
import type { EventRecord, ItemRecord, Store } from '../journal/store.js';
import { JournalError } from './errors.js';

export const DEFAULT_MAX_PENDING_ITEMS = 256;

export class ItemCommitter {
  private pending: ItemRecord[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  private failure?: unknown;

  constructor(
    private readonly store: Pick<Store, 'commitItems' | 'appendEvents'>,
    /** Events buffered for the run's journal, written after each group of items. */
    private readonly takeEvents: () => EventRecord[],
    private readonly maxPending = DEFAULT_MAX_PENDING_ITEMS,
  ) {}

  /** Queues `item`; resolves at once, or after a flush when the buffer is full. */
  async add(item: ItemRecord): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.pending.push(item);
    if (this.pending.length >= this.maxPending) {
      await this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      // After the current turn: every item finishing in this turn joins the same transaction.
      setImmediate(() => {
        this.scheduled = false;
        this.flush().catch((error: unknown) => {
          this.failure ??= error;
        });
      });
    }
  }

  /** Commits everything queued so far; resolves once it is durable. Throws a commit's failure. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.failure !== undefined) throw this.failure;
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    // Handed over together: the SQLite journal logs both in the same turn and applies them together.
    this.flushing = Promise.all([this.store.commitItems(group), this.store.appendEvents(this.takeEvents())]).then(
      () => undefined,
    );
    try {
      await this.flushing;
    } catch (error) {
      // The journal, not an item, failed: the run's crash (restarted from the journal), never a step failure.
      this.failure ??= error instanceof JournalError ? error : new JournalError(error);
      throw this.failure;
    } finally {
      this.flushing = undefined;
    }
  }
}
