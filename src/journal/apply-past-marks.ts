// Applying a process's own waiting writes to the tables, skipping what is already there: another
// process opening the journal (log-recovery.ts) — or this process's apply thread (apply-thread.ts)
// — may have applied a log's first writes already. Shared by the event loop and the apply thread, so
// that both do exactly the same; call inside one BEGIN IMMEDIATE transaction.
import type { JournalLogs } from './journal-logs.js';
import type { JournalWrite, SqliteWrites } from './sqlite-writes.js';

/** Writes in log order, the offset just past each in its log (-1: not logged), and that log's name. */
export interface WaitingWrites {
  writes: JournalWrite[];
  ends: number[];
  names: Array<string | undefined>;
}

/** Applies the writes past their log's mark, then moves each log's mark past the last applied. */
export function applyPastMarks({ writes, ends, names }: WaitingWrites, tables: SqliteWrites, logs: JournalLogs): void {
  const marks = new Map<string, number>();
  const lasts = new Map<string, number>();
  for (let i = 0; i < writes.length; i++) {
    const name = names[i];
    const end = ends[i] as number;
    if (name === undefined) {
      tables.apply(writes[i] as JournalWrite);
      continue;
    }
    let mark = marks.get(name);
    if (mark === undefined) {
      mark = logs.get(name)?.applied ?? 0;
      marks.set(name, mark);
    }
    if (end > mark) {
      tables.apply(writes[i] as JournalWrite);
      lasts.set(name, end);
    }
  }
  for (const [name, last] of lasts) logs.mark(name, last);
}
