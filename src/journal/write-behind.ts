// How the SQLite journal commits: a write is durable once it is a line in this process's
// write-ahead log (append-log.ts: one write(2)), and reaches the tables behind, many writes to a
// transaction — every APPLY_EVERY_MS, when MAX_PENDING_ROWS rows wait, before any read of this store,
// and at close. A SQLite commit of its own cost a sequential step 60–110 µs (locks, WAL frames,
// page writes; bench/README.md "Fourth round"), the log line a few.
//
// The durability rule is unchanged: a write has resolved only once it would survive this process
// being killed. If it is killed with writes not yet applied, the next process to open the journal
// applies them from the log before it reads anything (`recover`).
//
// Exactly once, whoever applies: each log has a row in `journal_logs` holding how far into it has
// been applied, and every application moves that mark in the same transaction as the writes it
// applied. So the owner and another process opening the journal meanwhile may both apply the same
// log (log-recovery.ts); no write is ever applied twice.
//
// Other connections see this process's writes when they are applied (≤ APPLY_EVERY_MS late), and
// all of them, applied or not, when they open the journal.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { ElexirionError, ExitCode } from '../errors.js';
import { AppendLog } from './append-log.js';
import { JournalLogs, newLogName, openLogs } from './journal-logs.js';
import { LogRecovery } from './log-recovery.js';
import { isRefused, type JournalWrite, logLine, type SqliteWrites } from './sqlite-writes.js';

/** How long a write may wait in memory before it is applied to the tables. */
export const APPLY_EVERY_MS = 200;
/**
 * Rows waiting beyond this many are applied at once. Applying stalls the event loop (~15 µs a row
 * in context): a thousand batch items applied at once held every call in flight for 15 ms, and a
 * latency-bound fan-out lost 5 % of its efficiency; a few milliseconds at a time it does not.
 */
const MAX_PENDING_ROWS = 256;
/**
 * Writes of one turn of the event loop logged one by one; later ones wait for the turn's end and
 * share one system call. A line written alone cost 3–16 µs here; five hundred runs resuming together
 * after one write also ran in 20–30 % less CPU than each resuming between the timers that woke them
 * (bench/README.md "Fourth round"). A sequential run pays one event-loop hop per SYNC_PER_TURN steps.
 */
const SYNC_PER_TURN = 16;
const RESOLVED = Promise.resolve();
/** A log this large, all applied, is replaced by a new one (a long-lived `serve` writes for days). */
const ROTATE_AT_BYTES = 64 * 1024 * 1024;

export interface WriteBehindOptions {
  /** Directory of the logs; none: writes are applied from memory alone (an in-memory journal). */
  dir?: string;
  /** fdatasync each log line (survives a power cut). */
  fsync?: boolean;
  /** A log this large, all applied, is replaced by a new one (default 64 MB). */
  rotateAtBytes?: number;
  /**
   * Permissions of the log files (default 0600): the database's, as SQLite gives its -wal file —
   * a log holds what the tables will. The directory gets the same, with search where read is.
   */
  fileMode?: number;
}

export class WriteBehind {
  /** Writes logged (or not to be) and not yet applied, in log order. */
  private pending: JournalWrite[] = [];
  /** Offset just past each pending write in its log, or -1 for one not logged. */
  private ends: number[] = [];
  /** The log each pending write is in (a log may give way to another while writes wait). */
  private names: Array<string | undefined> = [];
  /** Rows the pending writes hold (a write of batch items holds many). */
  private rows = 0;
  private log?: AppendLog;
  private logName?: string;
  /**
   * The next log's name, registered ahead (at open, at rotation): a write must not wait on the
   * database to start a log.
   */
  private nextName?: string;
  /** Logs this process closed before the tables held all of them: removed once they do. */
  private readonly retired = new Map<string, { path: string; end: number }>();
  private timer: NodeJS.Timeout | undefined;
  /** After a busy or full database: no applying again before the retry timer. */
  private backingOff = false;
  private closed = false;
  /** A write that could not be applied while nobody was waiting: reported by the next flush. */
  private failure: unknown;
  /** Writes of a crowded turn, logged at its end (see `write`), and their callers. */
  private deferred: JournalWrite[] = [];
  private settle: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private turnWrites = 0;
  private turnEnds = false;
  private readonly logs: JournalLogs;
  private readonly recovery?: LogRecovery;
  private readonly inTransaction: (work: () => void) => void;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: SqliteWrites,
    private readonly options: WriteBehindOptions = {},
  ) {
    this.logs = new JournalLogs(db);
    // BEGIN IMMEDIATE: the mark is read before the writes; taking the write lock first means no
    // other process can apply the same log in between.
    const transaction = db.transaction((work: () => void) => work());
    this.inTransaction = (work) => transaction.immediate(work);
    if (options.dir !== undefined) {
      this.recovery = new LogRecovery(options.dir, this.logs, writes, this.inTransaction);
      this.registerNext(true);
    }
  }

  /**
   * Makes `write` durable (a log line) and queues it for the tables; resolves once it is durable.
   * `logged: false`: memory only. The first SYNC_PER_TURN writes of a turn of the event loop are
   * logged at once — a sequential run goes on without waiting for anything — and the later ones of a
   * crowded turn (five hundred runs whose steps finished together) are logged together at its end,
   * one system call for all, and resolve then.
   */
  write(write: JournalWrite, logged = true): Promise<void> {
    const dir = this.options.dir;
    if (!logged || dir === undefined) {
      this.queue(write, -1, undefined);
      this.applyIfDue();
      return RESOLVED;
    }
    if (!this.turnEnds) {
      this.turnEnds = true;
      setImmediate(() => this.endTurn());
    }
    if (this.turnWrites < SYNC_PER_TURN && this.deferred.length === 0) {
      this.turnWrites++;
      const log = this.ownLog(dir);
      this.queue(
        write,
        this.appendTo(log, () => log.append(logLine(write))),
        this.logName,
      );
      this.applyIfDue();
      return RESOLVED;
    }
    this.deferred.push(write);
    return new Promise((resolve, reject) => this.settle.push({ resolve, reject }));
  }

  /** Applies every waiting write now, in one transaction. */
  flush(): void {
    // Writes handed over but not yet logged come first: a reader must find no gap (a live stream
    // joining a run midway reads the journal, then takes the events that follow).
    this.logDeferred();
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.backingOff = false;
    if (this.pending.length > 0) {
      const writes = this.pending;
      const ends = this.ends;
      const names = this.names;
      this.pending = [];
      this.ends = [];
      this.names = [];
      this.rows = 0;
      try {
        this.applyOwn(writes, ends, names);
      } catch (error) {
        if (!isRefused(error)) this.requeue(writes, ends, names, error);
        this.applyOneByOne(writes, ends, names);
      }
    }
    // Everything logged so far is applied: a large log may give way to a new one.
    const rotateAt = this.options.rotateAtBytes ?? ROTATE_AT_BYTES;
    if (this.log && this.log.size >= rotateAt && this.pending.length === 0) {
      this.closeOwnLog();
      this.registerNext();
    }
    if (this.retired.size > 0) this.removeRetired();
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /**
   * What the logs of other processes hold past their marks, applied; those of processes that are
   * gone removed. At open, before anything reads; then at most every `everyMs` from the reads that
   * show runs (a long-lived `serve` sees other processes' runs, killed ones included).
   */
  recover(everyMs = 0): void {
    const recovery = this.recovery;
    if (!recovery) return;
    if (everyMs === 0) {
      recovery.recover(this.logName, 0);
      return;
    }
    // For a read: a database another process holds locked is not waited for (it would hold the
    // event loop, then fail the read); its logs are applied at the next chance.
    try {
      this.withoutWaiting(() => recovery.recover(this.logName, everyMs));
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
  }

  /** Gives up the name registered ahead (a store whose opening failed). */
  abandon(): void {
    if (this.nextName !== undefined) this.forgetQuietly(this.nextName);
    this.nextName = undefined;
  }

  /** Applies what waits, then removes this process's log (everything in it is in the tables). */
  close(): void {
    try {
      this.flush();
    } finally {
      this.closed = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      // Writes still waiting (a busy database) stay in the log for the next process to open it.
      this.closeOwnLog();
      if (this.nextName !== undefined) this.forgetQuietly(this.nextName);
      this.nextName = undefined;
    }
  }

  private endTurn(): void {
    this.turnEnds = false;
    this.turnWrites = 0;
    this.logDeferred();
    this.applyIfDue();
  }

  /** Logs the writes deferred to the end of the turn, in one system call, and resolves them. */
  private logDeferred(): void {
    if (this.deferred.length === 0) return;
    const writes = this.deferred;
    const settle = this.settle;
    this.deferred = [];
    this.settle = [];
    let ends: number[];
    try {
      const log = this.ownLog(this.options.dir as string);
      ends = this.appendTo(log, () => log.appendAll(writes.map(logLine)));
    } catch (error) {
      for (const s of settle) s.reject(error);
      return;
    }
    for (let i = 0; i < writes.length; i++) this.queue(writes[i] as JournalWrite, ends[i] as number, this.logName);
    for (const s of settle) s.resolve();
  }

  private queue(write: JournalWrite, end: number, name: string | undefined): void {
    this.pending.push(write);
    this.ends.push(end);
    this.names.push(name);
    this.rows += rowsOf(write);
  }

  /**
   * An append that fails (a full disk, a failed fsync) leaves the log's tail in doubt — a part of a
   * line, or lines whose caller is told they failed but that another process may already have
   * read. The log takes nothing more: the next write starts a new one, and no offset is ever used
   * twice. (A failed write may so still land: an outcome unknown, as a commit whose answer was lost;
   * a resumed run takes it as journaled.)
   */
  private appendTo<T>(log: AppendLog, append: () => T): T {
    try {
      return append();
    } catch (error) {
      if (this.log === log) {
        // Its waiting writes go to the tables now if they can: the writes of the next log must not
        // reach them first (recovery applies one process's logs in the order they were made).
        this.applyQuietly();
        this.closeOwnLog();
        this.registerNext();
      }
      throw error;
    }
  }

  /**
   * Applies when enough rows wait (not `flush()`: the write that tips the count over is durable
   * already and must not fail because applying its neighbours did — the next read reports that),
   * or sets the timer that will.
   */
  private applyIfDue(): void {
    if (this.closed) return;
    if (this.rows >= MAX_PENDING_ROWS && !this.backingOff) this.applyQuietly();
    else if (this.timer === undefined && this.pending.length > 0) {
      this.timer = setTimeout(() => this.flushInBackground(), APPLY_EVERY_MS);
      this.timer.unref(); // the log holds them: an exit without close() loses nothing
    }
  }

  private ownLog(dir: string): AppendLog {
    if (this.log) return this.log;
    const name = this.nextName ?? this.register();
    this.nextName = undefined;
    let log: AppendLog | undefined;
    try {
      const mode = this.options.fileMode ?? 0o600;
      const dirMode = mode | ((mode & 0o444) >> 2);
      const made = mkdirSync(dir, { recursive: true, mode: dirMode });
      // As the logs' own modes (append-log.ts): exactly the database's, not what the umask left —
      // a group sharing the journal must be able to start and remove logs in it.
      if (made !== undefined) chmodQuietly(dir, dirMode);
      log = new AppendLog(join(dir, name), this.options.fsync, mode);
      // durability 'full': a line fdatasynced into a file whose directory entry is not on disk yet
      // would not survive a power cut either.
      if (this.options.fsync) {
        if (made !== undefined) syncDirectory(dirname(dir));
        syncDirectory(dir);
      }
    } catch (error) {
      // A file made but not to be written (its directory could not be synced): removed before its
      // row is forgotten — a log without its row is taken for a dead process's, applied and removed
      // by whoever opens the journal, while this process would apply its writes a second time.
      let removed = true;
      if (log) {
        log.close();
        try {
          rmSync(log.path, { force: true });
        } catch {
          removed = false; // then its row stays: an empty log of this process, removed once it is gone
        }
      }
      if (removed) this.forgetQuietly(name);
      throw new ElexirionError(`cannot create the journal's write-ahead log in ${dir}: ${(error as Error).message}`, {
        exitCode: ExitCode.unavailable,
        hint: 'the directory beside the journal database must be writable (--db, ELEXIRION_DB)',
      });
    }
    this.log = log;
    this.logName = name;
    openLogs.add(name);
    return log;
  }

  private register(): string {
    const name = newLogName();
    this.logs.register(name);
    return name;
  }

  /**
   * Registers the next log's name now, so that the write that starts it does not wait on the
   * database. At open it may wait (nothing runs yet); later (a rotation, a failed append) it does
   * not — on a busy database the next log registers itself when it starts.
   */
  private registerNext(atOpen = false): void {
    if (this.nextName !== undefined) return;
    try {
      this.nextName = atOpen ? this.register() : this.withoutWaiting(() => this.register());
    } catch {
      // A busy database: the next log registers itself when it starts.
    }
  }

  private forgetQuietly(name: string): void {
    try {
      this.logs.forget(name);
    } catch {
      // Left behind: a row without a file is never read.
    }
  }

  /**
   * No more writes to this log. Its file is removed once the tables hold all of it (its mark at
   * its end, no waiting write in it): now, or after a later flush (`removeRetired`).
   */
  private closeOwnLog(): void {
    const log = this.log;
    const name = this.logName;
    if (!log || name === undefined) return;
    this.log = undefined;
    this.logName = undefined;
    openLogs.delete(name);
    log.close();
    this.retired.set(name, { path: log.path, end: log.size });
    this.removeRetired();
  }

  /** Removes the closed logs whose every write is in the tables; a failure leaves them for later. */
  private removeRetired(): void {
    for (const [name, { path, end }] of this.retired) {
      try {
        if (this.names.includes(name) || (this.logs.get(name)?.applied ?? 0) < end) continue;
        rmSync(path, { force: true });
        this.retired.delete(name);
        this.logs.forget(name);
      } catch {
        // The database cannot say now: kept, and tried again after the next flush.
      }
    }
  }

  /** One transaction: the writes past their log's mark (another process may have applied some). */
  private applyOwn(writes: JournalWrite[], ends: number[], names: Array<string | undefined>): void {
    this.inTransaction(() => {
      const marks = new Map<string, number>();
      const lasts = new Map<string, number>();
      for (let i = 0; i < writes.length; i++) {
        const name = names[i];
        const end = ends[i] as number;
        if (name === undefined) {
          this.writes.apply(writes[i] as JournalWrite);
          continue;
        }
        let mark = marks.get(name);
        if (mark === undefined) {
          mark = this.logs.get(name)?.applied ?? 0;
          marks.set(name, mark);
        }
        if (end > mark) {
          this.writes.apply(writes[i] as JournalWrite);
          lasts.set(name, end);
        }
      }
      for (const [name, last] of lasts) this.logs.mark(name, last);
    });
  }

  // One bad write must not keep its neighbours out: each on its own; the bad one is reported by
  // the next read and passed over (its mark moved past it, in a transaction of its own: recovery
  // will not meet it again). Anything else stops here and keeps the rest waiting.
  private applyOneByOne(writes: JournalWrite[], ends: number[], names: Array<string | undefined>): void {
    let failure: unknown;
    for (let i = 0; i < writes.length; i++) {
      const name = names[i];
      const end = ends[i] as number;
      try {
        this.applyOwn([writes[i] as JournalWrite], [end], [name]);
      } catch (error) {
        try {
          if (!isRefused(error)) throw error;
          if (name !== undefined) this.inTransaction(() => this.logs.mark(name, end));
        } catch (stop) {
          if (failure !== undefined) this.failure ??= failure;
          this.requeue(writes.slice(i), ends.slice(i), names.slice(i), stop);
        }
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** The database is busy or out of space: keep the writes (they are logged) and try again later. */
  private requeue(writes: JournalWrite[], ends: number[], names: Array<string | undefined>, error: unknown): never {
    this.pending = writes.concat(this.pending);
    this.ends = ends.concat(this.ends);
    this.names = names.concat(this.names);
    for (const write of writes) this.rows += rowsOf(write);
    this.backingOff = true;
    if (!this.closed) this.timer ??= setTimeout(() => this.flushInBackground(), APPLY_EVERY_MS).unref();
    throw error;
  }

  private flushInBackground(): void {
    this.timer = undefined;
    if (!this.closed) this.applyQuietly();
  }

  private applyQuietly(): void {
    // Nobody waits on this: a database locked by another process is not waited for, but retried
    // on the timer requeue() sets.
    this.withoutWaiting(() => {
      try {
        this.flush();
      } catch (error) {
        // The next read or close reports a failure.
        if (isRefused(error)) this.failure = error;
      }
    });
  }

  /**
   * Runs `work` on a connection that does not wait for a lock another process holds: SQLite's
   * busy_timeout (5 s) would hold the event loop — every run of the process — that long.
   */
  private withoutWaiting<T>(work: () => T): T {
    const patience = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      return work();
    } finally {
      this.db.pragma(`busy_timeout = ${patience}`);
    }
  }
}

const isBusy = (error: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown }).code));

/** A file system that keeps no modes (SQLite ignores the failure too) still takes the logs. */
function chmodQuietly(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch {
    // As made, under the umask.
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const rowsOf = (write: JournalWrite): number => (write[0] === 'items' || write[0] === 'calls' ? write[1].length : 1);
