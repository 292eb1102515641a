// Applying other processes' write-ahead logs (write-behind.ts): what a log holds past its mark goes
// into the tables, exactly once — the mark moves in the same transaction as the writes it covers,
// under the write lock (BEGIN IMMEDIATE), so the owner and any number of other processes may race.
// A log whose owner is gone is removed once applied.
//
// A write the tables refuse (a bug: a step of a run that does not exist) is passed over with a
// warning, its neighbours applied one by one: one bad line must not keep every later process from
// opening the journal. A log damaged in the middle (a complete line that is no record — a machine's
// crash without fsync, an edit) is applied up to the damage and kept aside as `….damaged`.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ElexirionError, ExitCode } from '../errors.js';
import { type LogContents, readLog } from './append-log.js';
import { isGone, type JournalLogs, LOG_SUFFIX, openLogs } from './journal-logs.js';
import { fromLogLine, isRefused, type SqliteWrites } from './sqlite-writes.js';

export class LogRecovery {
  private recoveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly dir: string,
    private readonly logs: JournalLogs,
    private readonly writes: SqliteWrites,
    /** Runs `work` in one BEGIN IMMEDIATE transaction. */
    private readonly inTransaction: (work: () => void) => void,
  ) {}

  /** Every log of the directory but `except` (the caller's own); at most every `everyMs`. */
  recover(except: string | undefined, everyMs = 0): void {
    const now = performance.now();
    if (now - this.recoveredAt < everyMs) return;
    let names: string[];
    try {
      // Sorted: a process's names start with its pid, a token of the process and a counter
      // (journal-logs.ts), so a log that gave way to another is applied before it.
      names = readdirSync(this.dir)
        .filter((name) => name.endsWith(LOG_SUFFIX) && name !== except)
        .sort();
    } catch (error) {
      // No directory (or a file in its way): nothing was ever logged here. Any other failure (no
      // permission, no file descriptors) must not pass for "nothing to recover": a claim would act
      // on a stale journal, and a killed process's writes would be applied after newer ones.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new ElexirionError(
          `cannot read the journal's write-ahead logs in ${this.dir}: ${(error as Error).message}`,
          {
            exitCode: ExitCode.unavailable,
            hint: 'the directory beside the journal database must be readable; try again once it is',
            cause: error,
          },
        );
      }
      names = [];
    }
    for (const name of names) this.recoverLog(join(this.dir, name), name);
    this.forgetOrphans(new Set(names), except);
    this.recoveredAt = now;
  }

  /**
   * Rows of logs that have no file and never will: a dead process's name registered ahead and
   * never used, or one killed between removing its log and forgetting it.
   */
  private forgetOrphans(files: Set<string>, except: string | undefined): void {
    for (const row of this.logs.all()) {
      if (files.has(row.name) || row.name === except || openLogs.has(row.name) || !isGone(row, row.name)) continue;
      if (existsSync(join(this.dir, row.name))) continue; // made since the directory was read
      this.logs.forget(row.name);
    }
  }

  private recoverLog(path: string, name: string): void {
    const owner = this.logs.get(name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return; // removed meanwhile by its owner
    }
    const damaged = size > (owner?.applied ?? 0) && this.apply(path, name);
    if (openLogs.has(name) || !isGone(owner, name)) return;
    // Everything complete in it was applied above (a failure would have thrown): what may remain
    // is a line its dead owner never finished, or the damage. Tidying up is not worth failing the
    // open for: a log left behind is read again and applies nothing twice.
    try {
      if (damaged) {
        renameSync(path, `${path}.damaged`);
        process.emitWarning(
          `the journal's write-ahead log ${path} is damaged; what preceded the damage was applied, the file is kept as ${path}.damaged`,
          'ElexirionJournalWarning',
        );
      } else {
        rmSync(path, { force: true });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another process did it
      process.emitWarning(
        `the journal's write-ahead log ${path} is all applied but could not be removed: ${(error as Error).message}`,
        'ElexirionJournalWarning',
      );
      return;
    }
    this.logs.forget(name);
  }

  /** Applies what the log holds past its mark; returns whether it is damaged. */
  private apply(path: string, name: string): boolean {
    let contents: LogContents = { records: [], damaged: false };
    let refused: unknown;
    try {
      this.inTransaction(() => {
        contents = readLogIfThere(path, this.logs.get(name)?.applied ?? 0); // under the write lock
        try {
          for (const { record } of contents.records) this.writes.apply(fromLogLine(record));
        } catch (error) {
          refused = error;
          throw error;
        }
        const last = contents.records[contents.records.length - 1];
        if (last) this.logs.mark(name, last.end);
      });
    } catch (error) {
      // Reading the file failed, or the database said "not now": nothing was applied, the log stays.
      if (refused === undefined || !isRefused(error)) throw error;
      this.applyOneByOne(path, name, contents);
    }
    return contents.damaged;
  }

  private applyOneByOne(path: string, name: string, contents: LogContents): void {
    for (const { record, end } of contents.records) {
      try {
        this.inTransaction(() => {
          if ((this.logs.get(name)?.applied ?? 0) >= end) return; // applied meanwhile by its owner
          this.writes.apply(fromLogLine(record));
          this.logs.mark(name, end);
        });
      } catch (error) {
        if (!isRefused(error)) throw error;
        this.inTransaction(() => this.logs.mark(name, end));
        process.emitWarning(
          `a write in the journal's log ${path} could not be applied and was passed over: ${(error as Error).message}`,
          'ElexirionJournalWarning',
        );
      }
    }
  }
}

/** A log removed meanwhile (its owner closed it, everything applied) has nothing left to apply. */
function readLogIfThere(path: string, from: number): LogContents {
  try {
    return readLog(path, from);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], damaged: false };
    throw error;
  }
}
