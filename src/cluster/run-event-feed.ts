// A run's events for a follower in cluster mode (`run --cluster`, `serve --cluster`): the journal,
// read from where the follower is, merged with the live events the run's worker relays through
// Redis — in journal seq order, each once, with no gap (RunEventSequence). The live side brings
// each event as it happens (a streaming step's tokens among them); the journal, polled more
// slowly, is the truth that fills whatever the live side missed: a message lost with Redis, a run
// restarted by another worker.
import type { Redis } from 'ioredis';
import type { Store } from '../journal/store.js';
import type { RelayedEvent } from './event-relay.js';
import { LiveRunEvents } from './live-events.js';
import { RunEventSequence, type SequencedEvent } from './run-event-sequence.js';

export interface RunEventFeedOptions {
  store: Pick<Store, 'getEvents' | 'lastEventSeq'>;
  runId: string;
  /** The last seq the follower has (Last-Event-ID); 0 for all. */
  afterSeq?: number;
  /** The live side: a connection of the feed's own (closed with it) and the cluster's key prefix. */
  live?: { redis: Redis; prefix: string };
  /** How often the journal is read (default: 500 ms with a live side, else 100 ms). */
  journalPollMs?: number;
}

const PAGE = 500;

export class RunEventFeed {
  private readonly sequence: RunEventSequence;
  private readonly live?: LiveRunEvents;
  private readonly journalPollMs: number;
  private nextJournalRead = 0;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly options: RunEventFeedOptions,
    committed: number,
  ) {
    this.sequence = new RunEventSequence(options.afterSeq ?? 0, committed);
    this.journalPollMs = options.journalPollMs ?? (options.live ? 500 : 100);
    if (options.live) {
      const { redis, prefix } = options.live;
      this.live = new LiveRunEvents(redis, prefix, options.runId, (events) => this.arrived(events));
    }
  }

  static async open(options: RunEventFeedOptions): Promise<RunEventFeed> {
    const afterSeq = options.afterSeq ?? 0;
    // A follower that comes back may have been sent live events the journal does not have yet.
    const committed = afterSeq > 0 ? await options.store.lastEventSeq(options.runId) : 0;
    return new RunEventFeed(options, committed);
  }

  /** The events that can be delivered now, in order; waits up to `waitMs` when there are none. */
  async next(waitMs: number): Promise<SequencedEvent[]> {
    await this.readJournalIfDue();
    let events = this.sequence.take();
    if (events.length > 0) return events;
    const wait = Math.max(0, Math.min(waitMs, this.nextJournalRead - Date.now()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    await this.readJournalIfDue();
    events = this.sequence.take();
    return events;
  }

  close(): void {
    this.live?.close();
    this.wake?.();
  }

  private arrived(events: RelayedEvent[]): void {
    this.sequence.fromLive(events);
    this.wake?.();
  }

  private async readJournalIfDue(): Promise<void> {
    if (Date.now() < this.nextJournalRead) return;
    this.nextJournalRead = Date.now() + this.journalPollMs;
    for (;;) {
      const events = await this.options.store.getEvents(this.options.runId, this.sequence.journalCursor, PAGE);
      this.sequence.fromJournal(events);
      // A hole in the journal holds the cursor: reading on would only return the same page.
      if (events.length < PAGE || this.sequence.journalCursor < (events.at(-1)?.seq ?? 0)) return;
    }
  }
}
