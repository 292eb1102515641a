// How the SQLite journal commits: a write is durable once it is a line in this process's
// write-ahead log (append-log.ts: one write(2)), and reaches the tables behind, many writes to a
// transaction — every APPLY_EVERY_MS, when MAX_PENDING_ROWS are waiting, before any read of this store,
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
// log; no write is ever applied twice.
//
// Other connections see this process's writes when they are applied (≤ APPLY_EVERY_MS late), and
// all of them, applied or not, when they open the journal.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ElexirionError, ExitCode } from '../errors.js';
import { AppendLog, readLog } from './append-log.js';
import { fromLogLine, type JournalWrite, logLine, type SqliteWrites } from './sqlite-writes.js';

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
const LOG_SUFFIX = '.jsonl';

/** The logs open in this process (its other journals on the same file): never taken for a dead process's. */
const openLogs = new Set<string>();
const HOST = hostname();

interface LogRow {
  applied: number;
  pid: number;
  host: string;
}

export interface WriteBehindOptions {
  /** Directory of the logs; none: writes are applied from memory alone (an in-memory journal). */
  dir?: string;
  /** fdatasync each log line (survives a power cut). */
  fsync?: boolean;
}

export class WriteBehind {
  private pending: JournalWrite[] = [];
  /** Offset just past each pending write in the log, or -1 for one not logged. */
  private ends: number[] = [];
  private log?: AppendLog;
  private logName?: string;
  private timer: NodeJS.Timeout | undefined;
  /** A write that could not be applied while nobody was waiting: reported by the next flush. */
  private failure: unknown;
  private recoveredAt = Number.NEGATIVE_INFINITY;
  /** Writes of a crowded turn, logged at its end (see `write`), and their callers. */
  private deferred: JournalWrite[] = [];
  private settle: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private turnWrites = 0;
  /** Rows the pending writes hold (a write of batch items holds many). */
  private rows = 0;
  private turnEnds = false;
  private readonly stmts;
  private readonly inTransaction: (work: () => void) => void;

  constructor(
    db: Database.Database,
    private readonly writes: SqliteWrites,
    private readonly options: WriteBehindOptions = {},
  ) {
    this.stmts = {
      get: db.prepare('SELECT applied, pid, host FROM journal_logs WHERE name = ?'),
      register: db.prepare('INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, 0, ?, ?, ?)'),
      mark: db.prepare(
        `INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, ?, 0, '', 0)
         ON CONFLICT (name) DO UPDATE SET applied = excluded.applied`,
      ),
      forget: db.prepare('DELETE FROM journal_logs WHERE name = ?'),
    };
    // BEGIN IMMEDIATE: the mark is read before the writes; taking the write lock first means no
    // other process can apply the same log in between.
    const transaction = db.transaction((work: () => void) => work());
    this.inTransaction = (work) => transaction.immediate(work);
  }

  get waiting(): number {
    return this.pending.length;
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
      this.queue(write, -1);
      return RESOLVED;
    }
    if (!this.turnEnds) {
      this.turnEnds = true;
      setImmediate(() => this.endTurn());
    }
    if (this.turnWrites < SYNC_PER_TURN && this.deferred.length === 0) {
      this.turnWrites++;
      this.queue(write, this.ownLog(dir).append(logLine(write)));
      return RESOLVED;
    }
    this.deferred.push(write);
    return new Promise((resolve, reject) => this.settle.push({ resolve, reject }));
  }

  private endTurn(): void {
    this.turnEnds = false;
    this.turnWrites = 0;
    this.logDeferred();
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
      ends = this.ownLog(this.options.dir as string).appendAll(writes.map(logLine));
    } catch (error) {
      for (const s of settle) s.reject(error);
      return;
    }
    for (let i = 0; i < writes.length; i++) this.queue(writes[i] as JournalWrite, ends[i] as number);
    for (const s of settle) s.resolve();
  }

  private queue(write: JournalWrite, end: number): void {
    this.pending.push(write);
    this.ends.push(end);
    this.rows += write[0] === 'items' || write[0] === 'calls' ? write[1].length : 1;
    // Not `flush()`: the write that tips the count over is durable already, and must not fail
    // because applying — its neighbours' rows too — did; the next read reports that.
    if (this.rows >= MAX_PENDING_ROWS) this.applyQuietly();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flushInBackground(), APPLY_EVERY_MS);
      this.timer.unref(); // the log holds them: an exit without close() loses nothing
    }
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
    if (this.pending.length > 0) {
      const writes = this.pending;
      const ends = this.ends;
      this.pending = [];
      this.ends = [];
      this.rows = 0;
      try {
        this.applyOwn(writes, ends);
      } catch (error) {
        if (isTransient(error)) this.requeue(writes, ends, error);
        this.applyOneByOne(writes, ends);
      }
      if (this.log && this.log.size >= ROTATE_AT_BYTES) this.closeOwnLog(true);
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Applies what waits, then removes this process's log (everything in it is in the tables). */
  close(): void {
    try {
      this.flush();
    } finally {
      this.closeOwnLog(this.pending.length === 0);
    }
  }

  /**
   * Applies what the logs of other processes hold beyond their mark, and removes those of processes
   * that are gone. At open, before anything reads; then at most every `everyMs` from the reads that
   * show runs (a long-lived `serve` sees other processes' runs, killed ones included).
   */
  recover(everyMs = 0): void {
    const dir = this.options.dir;
    if (dir === undefined) return;
    const now = performance.now();
    if (now - this.recoveredAt < everyMs) return;
    this.recoveredAt = now;
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(LOG_SUFFIX) && name !== this.logName);
    } catch {
      return; // no directory: nothing was ever logged here
    }
    for (const name of names) this.recoverLog(join(dir, name), name);
  }

  private recoverLog(path: string, name: string): void {
    let owner = this.stmts.get.get(name) as LogRow | undefined;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return; // removed meanwhile by its owner
    }
    if (size > (owner?.applied ?? 0)) {
      this.inTransaction(() => {
        owner = this.stmts.get.get(name) as LogRow | undefined; // again, under the write lock
        const records = readLogIfThere(path, owner?.applied ?? 0);
        for (const { record } of records) this.writes.apply(fromLogLine(record));
        const last = records[records.length - 1];
        if (last) this.stmts.mark.run(name, last.end);
      });
    }
    if (!openLogs.has(name) && (owner === undefined || isGone(owner))) {
      rmSync(path, { force: true });
      this.stmts.forget.run(name);
    }
  }

  private ownLog(dir: string): AppendLog {
    if (this.log) return this.log;
    const name = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}${LOG_SUFFIX}`;
    // The row first: a log file without one is taken for a dead process's.
    this.stmts.register.run(name, process.pid, HOST, Date.now());
    try {
      mkdirSync(dir, { recursive: true });
      this.log = new AppendLog(join(dir, name), this.options.fsync);
    } catch (error) {
      this.stmts.forget.run(name);
      throw new ElexirionError(`cannot create the journal's write-ahead log in ${dir}: ${(error as Error).message}`, {
        exitCode: ExitCode.unavailable,
        hint: 'the directory beside the journal database must be writable (--db, ELEXIRION_DB)',
      });
    }
    this.logName = name;
    openLogs.add(name);
    return this.log;
  }

  private closeOwnLog(remove: boolean): void {
    const log = this.log;
    const name = this.logName;
    if (!log || name === undefined) return;
    this.log = undefined;
    this.logName = undefined;
    openLogs.delete(name);
    log.close(remove);
    if (remove) this.stmts.forget.run(name);
  }

  /** One transaction: the writes past this log's mark (another process may have applied some). */
  private applyOwn(writes: JournalWrite[], ends: number[]): void {
    this.inTransaction(() => {
      const name = this.logName;
      const mark = name === undefined ? 0 : ((this.stmts.get.get(name) as LogRow | undefined)?.applied ?? 0);
      let last = -1;
      for (let i = 0; i < writes.length; i++) {
        const end = ends[i] as number;
        if (end === -1 || end > mark) this.writes.apply(writes[i] as JournalWrite);
        if (end > last) last = end;
      }
      if (name !== undefined && last > mark) this.stmts.mark.run(name, last);
    });
  }

  // One bad write must not keep its neighbours out: each on its own; the bad one is reported, and
  // passed over (it stays in the log file for whoever wants to look at it).
  private applyOneByOne(writes: JournalWrite[], ends: number[]): void {
    let failure: unknown;
    for (let i = 0; i < writes.length; i++) {
      try {
        this.applyOwn([writes[i] as JournalWrite], [ends[i] as number]);
      } catch (error) {
        if (isTransient(error)) this.requeue(writes.slice(i), ends.slice(i), error);
        failure ??= error;
        const end = ends[i] as number;
        if (end !== -1 && this.logName !== undefined) this.stmts.mark.run(this.logName, end);
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** The database is busy or out of space: keep the writes (they are logged) and try again later. */
  private requeue(writes: JournalWrite[], ends: number[], error: unknown): never {
    this.pending = writes.concat(this.pending);
    this.ends = ends.concat(this.ends);
    this.rows += writes.length;
    this.timer ??= setTimeout(() => this.flushInBackground(), APPLY_EVERY_MS).unref();
    throw error;
  }

  private flushInBackground(): void {
    this.timer = undefined;
    this.applyQuietly();
  }

  private applyQuietly(): void {
    try {
      this.flush();
    } catch (error) {
      // Nobody waits on this: the next read or close reports the failure (a busy database is
      // retried first, on the timer requeue() set).
      if (!isTransient(error)) this.failure = error;
    }
  }
}

/** A log removed meanwhile (its owner closed it, everything applied) has nothing left to apply. */
function readLogIfThere(path: string, from: number): ReturnType<typeof readLog> {
  try {
    return readLog(path, from);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Errors that say "not now" rather than "never": the database is locked, full, or failing I/O. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|NOMEM)/.test(code);
}

/** Whether the process that owned a log is gone (then nobody else will ever write to it). */
function isGone(owner: LogRow): boolean {
  if (owner.host !== HOST) return false; // another machine's: cannot tell, keep it
  if (owner.pid === process.pid) return true; // not open here (checked first): an earlier process with our pid
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
