// The merge of a run's journal and its live relay, as a follower sees it: seq order, each seq once,
// no gap — across lost live messages, a worker that died with uncommitted events, a late follower.
import { describe, expect, it } from 'vitest';
import type { RelayedEvent } from '../../src/cluster/event-relay.js';
import { JOURNAL_HOLE_GRACE_MS, RunEventSequence, type SequencedEvent } from '../../src/cluster/run-event-sequence.js';
import type { EventRecord } from '../../src/journal/store.js';

/** A journaled event; `at` tells executions apart (a lost event and its replacement differ in it). */
const journal = (seq: number, type = 'pipeline.step.chunk', at = 1000 + seq): EventRecord => ({
  runId: 'r',
  seq,
  type,
  at,
  data: { runId: 'r' },
});

const live = (seq: number, attempt: string, base: number, type = 'pipeline.step.chunk', at = 1000 + seq) =>
  ({ seq, type, at, data: { runId: 'r' }, attempt, base }) satisfies RelayedEvent;

const seqs = (events: SequencedEvent[]) => events.map((e) => e.seq);

describe('RunEventSequence', () => {
  it('delivers live events at once, in order, and does not repeat them when the journal has them', () => {
    const s = new RunEventSequence(0);
    s.fromJournal([]);
    s.fromLive([live(1, 'a', 1, 'pipeline.execution.start'), live(2, 'a', 1), live(3, 'a', 1)]);
    expect(seqs(s.take())).toEqual([1, 2, 3]);
    s.fromJournal([journal(1, 'pipeline.execution.start'), journal(2), journal(3)]);
    expect(s.take()).toEqual([]);
    expect(s.journalCursor).toBe(3);
  });

  it('takes a stop seen live and journaled at another instant for one event (a stop is committed before it is emitted)', () => {
    const s = new RunEventSequence(0);
    s.fromLive([live(1, 'a', 1, 'pipeline.step.stop', 5000), live(2, 'a', 1, 'pipeline.execution.stop', 5001)]);
    expect(seqs(s.take())).toEqual([1, 2]);
    // The journal has both with the instants they report (the step's and the run's end), earlier.
    s.fromJournal([journal(1, 'pipeline.step.stop', 4990), journal(2, 'pipeline.execution.stop', 4995)]);
    expect(s.take()).toEqual([]);
  });

  it('holds live events behind a lost one until the journal fills the gap', () => {
    const s = new RunEventSequence(0);
    s.fromLive([live(1, 'a', 1), live(3, 'a', 1), live(4, 'a', 1)]);
    expect(seqs(s.take())).toEqual([1]);
    s.fromJournal([journal(1)]); // 2 is not committed yet
    expect(s.take()).toEqual([]);
    s.fromJournal([journal(2), journal(3)]);
    expect(seqs(s.take())).toEqual([2, 3, 4]);
  });

  it('takes each seq once when the journal replay and the stream’s catch-up overlap', () => {
    const s = new RunEventSequence(0);
    s.fromJournal([1, 2, 3, 4].map((n) => journal(n)));
    s.fromLive([1, 2, 3, 4, 5, 6].map((n) => live(n, 'a', 1)));
    s.fromJournal([journal(5)]);
    expect(seqs(s.take())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('goes back to the new execution’s base when a worker died with events it had sent live', () => {
    const s = new RunEventSequence(0);
    s.fromJournal([journal(1, 'pipeline.execution.start'), journal(2)]);
    // Execution `a` streams 3..5 live, then its worker dies: 3..5 never reach the journal.
    s.fromLive([3, 4, 5].map((n) => live(n, 'a', 1)));
    expect(seqs(s.take())).toEqual([1, 2, 3, 4, 5]);
    // Execution `b` starts again from the journal: its seqs continue from 2.
    const b = [live(3, 'b', 3, 'pipeline.execution.start', 5003), live(4, 'b', 3, 'pipeline.step.chunk', 5004)];
    s.fromLive(b);
    const again = s.take();
    expect(again.map((e) => [e.seq, e.type])).toEqual([
      [3, 'pipeline.execution.start'],
      [4, 'pipeline.step.chunk'],
    ]);
    // A late message of the dead execution is not taken.
    s.fromLive([live(6, 'a', 1)]);
    s.fromLive([live(5, 'b', 3, 'pipeline.step.chunk', 5005)]);
    expect(seqs(s.take())).toEqual([5]);
    s.fromJournal(
      [3, 4, 5].map((n) => journal(n, n === 3 ? 'pipeline.execution.start' : 'pipeline.step.chunk', 5000 + n)),
    );
    expect(s.take()).toEqual([]);
    expect(s.journalCursor).toBe(5);
  });

  it('shows a follower that comes late none of a dead execution’s lost events', () => {
    const s = new RunEventSequence(0);
    s.fromJournal([journal(1, 'pipeline.execution.start'), journal(2)]);
    // The stream still holds `a`'s events, lost ones included, then `b`'s.
    s.fromLive([
      ...[1, 2, 3, 4].map((n) => live(n, 'a', 1)),
      live(3, 'b', 3, 'pipeline.execution.start', 5003),
      live(4, 'b', 3, 'pipeline.step.chunk', 5004),
    ]);
    expect(s.take().map((e) => [e.seq, e.at])).toEqual([
      [1, 1001],
      [2, 1002],
      [3, 5003],
      [4, 5004],
    ]);
  });

  it('trusts the journal when the new execution’s live events were lost too', () => {
    const s = new RunEventSequence(0);
    s.fromLive([1, 2, 3].map((n) => live(n, 'a', 1)));
    expect(seqs(s.take())).toEqual([1, 2, 3]);
    // Only 1 was committed; execution `b` (never seen live) journaled 2.. with other events.
    s.fromJournal([journal(1), journal(2, 'pipeline.execution.start', 7002), journal(3, 'pipeline.step.start', 7003)]);
    expect(s.take().map((e) => [e.seq, e.type])).toEqual([
      [2, 'pipeline.execution.start'],
      [3, 'pipeline.step.start'],
    ]);
  });

  it('places an event without seq after the event it followed, and drops one whose place has passed', () => {
    const s = new RunEventSequence(0);
    const unsequenced = (after: number): RelayedEvent => ({
      after,
      type: 'pipeline.step.stop',
      at: 1,
      data: { runId: 'r', fromJournal: true },
      attempt: 'a',
      base: 1,
    });
    s.fromLive([live(1, 'a', 1, 'pipeline.execution.start'), live(3, 'a', 1), unsequenced(2)]);
    expect(seqs(s.take())).toEqual([1]);
    s.fromJournal([journal(1, 'pipeline.execution.start'), journal(2)]);
    expect(s.take().map((e) => e.seq ?? 'none')).toEqual([2, 'none', 3]);
    s.fromLive([unsequenced(1)]);
    expect(s.take()).toEqual([]);
  });

  it('waits for a hole in the journal, then gives it up', () => {
    const s = new RunEventSequence(0);
    s.fromJournal([journal(1), journal(3)], 0);
    expect(seqs(s.take())).toEqual([1]);
    s.fromJournal([journal(3)], JOURNAL_HOLE_GRACE_MS - 1);
    expect(s.take()).toEqual([]);
    s.fromJournal([journal(3), journal(4)], JOURNAL_HOLE_GRACE_MS + 1);
    expect(seqs(s.take())).toEqual([3, 4]);
    expect(s.journalCursor).toBe(4);
  });

  it('resumes a reader after its Last-Event-ID without sending it anything again', () => {
    // The reader got 1..4 live; the journal has 1..2 so far.
    const s = new RunEventSequence(4, 2);
    expect(s.journalCursor).toBe(2);
    s.fromJournal([]); // nothing after 2 yet
    s.fromLive([1, 2, 3, 4, 5, 6].map((n) => live(n, 'a', 1)));
    expect(seqs(s.take())).toEqual([5, 6]);
    s.fromJournal([3, 4, 5, 6].map((n) => journal(n)));
    expect(s.take()).toEqual([]);
  });

  it('sends a reader whose Last-Event-ID may be a dead execution’s event from the new execution’s base', () => {
    // The reader got 1..4 live from `a`, which died with 3..4 uncommitted; `b` goes on from 3.
    const s = new RunEventSequence(4, 2);
    s.fromLive([
      ...[1, 2, 3, 4].map((n) => live(n, 'a', 1)),
      live(3, 'b', 3, 'pipeline.execution.start', 5003),
      live(4, 'b', 3, 'pipeline.step.chunk', 5004),
    ]);
    expect(s.take().map((e) => [e.seq, e.at])).toEqual([
      [3, 5003],
      [4, 5004],
    ]);
  });
});
