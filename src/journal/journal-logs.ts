// The registry of write-ahead logs (write-behind.ts): a row of `journal_logs` per log file — how
// far into it has been applied to the tables (its mark), and which process writes it — and how
// to tell that process is gone, so that its log may be removed.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';

export const LOG_SUFFIX = '.jsonl';

/** Logs open in this thread: never taken for a dead process's, whatever the checks below say. */
export const openLogs = new Set<string>();

/**
 * Where a pid means something: the host, and on Linux the pid namespace (containers sharing a
 * hostname but not their pids must not judge each other's processes).
 */
export const PID_NAMESPACE: string | undefined = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();
export const HOST_ID = PID_NAMESPACE === undefined ? hostname() : `${hostname()} ${PID_NAMESPACE}`;

/**
 * Whether process `pid` of this pid namespace is gone. Only "no such process" says so: EPERM is a
 * process that lives under another user.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * When process `pid` started (clock ticks since boot, /proc/PID/stat's 22nd field), or undefined
 * where that cannot be read (not Linux, gone). With the pid it names one process for good: a pid the
 * kernel gave to another process since (a killed owner's) has another start.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and ')': count after the last.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process's start (processStart), kept with what it owns. */
export const PROCESS_START: string | undefined = processStart(process.pid);

export interface LogRow {
  applied: number;
  pid: number;
  host: string;
}

export class JournalLogs {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      get: db.prepare('SELECT applied, pid, host FROM journal_logs WHERE name = ?'),
      register: db.prepare('INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, 0, ?, ?, ?)'),
      // Never backwards: two appliers of one log each move it to where they got.
      mark: db.prepare(
        `INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, ?, 0, '', 0)
         ON CONFLICT (name) DO UPDATE SET applied = max(applied, excluded.applied)`,
      ),
      forget: db.prepare('DELETE FROM journal_logs WHERE name = ?'),
      all: db.prepare('SELECT name, applied, pid, host FROM journal_logs'),
    };
  }

  get(name: string): LogRow | undefined {
    return this.stmts.get.get(name) as LogRow | undefined;
  }

  /** Before the file exists: a log file without a row is taken for a dead process's. */
  register(name: string): void {
    this.stmts.register.run(name, process.pid, HOST_ID, Date.now());
  }

  mark(name: string, applied: number): void {
    this.stmts.mark.run(name, applied);
  }

  forget(name: string): void {
    this.stmts.forget.run(name);
  }

  /** Every registered log, by name. */
  all(): Array<LogRow & { name: string }> {
    return this.stmts.all.all() as Array<LogRow & { name: string }>;
  }
}

/**
 * The same for every log of this thread: when it started (base 36) and a random part, so that two
 * threads of a process, or two processes that got the same pid, never name a log alike.
 */
const THREAD_TOKEN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let made = 0;

/**
 * `<pid>-<thread token>-<counter>.jsonl`: one thread's names sort in the order made, whatever the
 * clock does meanwhile (recovery applies them in that order: a log's writes may depend on the one
 * before, a run created there).
 */
export function newLogName(): string {
  made += 1;
  return `${process.pid}-${THREAD_TOKEN}-${String(made).padStart(9, '0')}${LOG_SUFFIX}`;
}

/**
 * Whether the process that owned log `name` is certainly gone (then nobody will ever write to it).
 * `owner`: its row; a row only another process's mark made (pid 0) says no more than none.
 */
export function isGone(owner: LogRow | undefined, name: string): boolean {
  if (owner === undefined || owner.pid === 0) {
    // No row names its owner: the journal database was replaced under a live process (its new
    // journal_logs knows nothing of the logs beside it), or the row went with a process killed as
    // it removed its log. The name starts with the owner's pid (newLogName): a live owner's log must
    // not be removed while it writes on — its next writes would go into a file nobody will read.
    const pid = Number.parseInt(name, 10);
    if (!(pid > 0)) return true; // no pid in the name: no process of ours ever wrote it
    return pid !== process.pid && processGone(pid);
  }
  if (owner.host !== HOST_ID) return false; // another machine's or pid namespace's: cannot tell
  // Ours but not open in this thread: another thread's, or an earlier process's with our pid.
  // Cannot tell which: kept (an applied log left behind is read again, never applied again).
  if (owner.pid === process.pid) return false;
  return processGone(owner.pid);
}
