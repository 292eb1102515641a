// The `claude` process of a session, started by us (the SDK's spawnClaudeCodeProcess hook) in a
// process group of its own, so that stopping the session stops everything it started: its tools'
// commands (the Bash tool's `sh -c …` and what that runs) are in the group too. Left to the SDK,
// `claude` ran in our own group and only its pid was signalled: a cancelled session left its
// tools' processes running, re-parented to init.
//
// - Every signal the SDK sends to `claude` (SIGTERM two seconds after stdin is closed, SIGKILL five
//   seconds later) goes to the whole group.
// - When `claude` has exited (whatever the reason: its result given, stdin closed, killed), what is
//   left of its group is stopped: SIGTERM, then SIGKILL after GROUP_GRACE_MS for whatever is still
//   there. A live group keeps Elexirion's event loop alive until it is gone, so a normal exit does
//   not leave it behind; at an abrupt exit (process.exit, a second Ctrl-C) every group still live
//   is sent SIGKILL.
// - On Windows there are no process groups: `claude` is started as the SDK would and only it is
//   signalled.
//
// Started detached, `claude` is in a session of its own on POSIX and no longer gets the terminal's
// Ctrl-C directly: the CLI's SIGINT handler stops the run, which stops the session; a program with
// no handler of its own has its live groups killed before the signal ends it (onFatalSignal).
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { SpawnedProcess, SpawnOptions } from '@anthropic-ai/claude-agent-sdk';

/** After SIGTERM, how long a group's processes have before SIGKILL. */
export const GROUP_GRACE_MS = 5_000;
/** How much of the end of `claude`'s stderr is kept for the error of a session that failed. */
const STDERR_TAIL_CHARS = 2_048;
/** How long the exit of `claude` waits for the rest of its stderr (as the SDK's own spawn does). */
const STDERR_WAIT_MS = 200;
/** How often a group being stopped is checked for members. */
const POLL_MS = 100;

const isWindows = process.platform === 'win32';

/** The sessions' processes whose groups may still have members. */
const live = new Set<SessionProcess>();
let exitHook = false;

function killLiveGroupsAtExit(): void {
  for (const proc of live) proc.signal('SIGKILL');
  live.clear();
}

/**
 * Signals that end a Node process by default. Detached, `claude` does not get the terminal's
 * Ctrl-C, and a process a signal kills runs no 'exit' listener: a library script without handlers
 * of its own, stopped by Ctrl-C or `kill`, left every live session (its `claude`, its tools'
 * commands) running, re-parented to init. While groups live we listen too: when no one else does
 * (the signal would end the process), the groups are killed and the signal is raised again, with
 * Node's own handling, to end the process as it would have. A program with handlers of its own
 * (the CLI stops its runs, which stop their sessions) is left to them.
 */
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const onFatalSignal = (signal: NodeJS.Signals): void => {
  if (process.listenerCount(signal) > 1) return;
  killLiveGroupsAtExit();
  unwatchSignals();
  process.kill(process.pid, signal);
};
let watching = false;

function watchSignals(): void {
  if (watching || isWindows) return;
  watching = true;
  for (const signal of FATAL_SIGNALS) process.on(signal, onFatalSignal);
}

function unwatchSignals(): void {
  if (!watching) return;
  watching = false;
  for (const signal of FATAL_SIGNALS) process.off(signal, onFatalSignal);
}

/** A session's group is gone: the last one lets go of the signals. */
function forget(proc: SessionProcess): void {
  live.delete(proc);
  if (live.size === 0) unwatchSignals();
}

type ExitListener = (code: number | null, signal: NodeJS.Signals | null) => void;
type ErrorListener = (error: Error) => void;

/** What spawnClaudeCodeProcess returns: the SDK's view of `claude`, its group handled by us. */
export class SessionProcess implements SpawnedProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  private readonly child: ChildProcess;
  private readonly events = new EventEmitter();
  private readonly grouped: boolean;
  private tail = '';
  /** Whether `tail` lost its start to the size limit (it may begin in the middle of a word). */
  private tailCut = false;
  private signalled = false;
  private stopping: NodeJS.Timeout | undefined;

  constructor(options: SpawnOptions) {
    this.grouped = !isWindows;
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      detached: this.grouped,
    });
    if (!this.child.stdin || !this.child.stdout || !this.child.stderr) throw new Error('claude: no stdio pipes');
    this.stdin = this.child.stdin;
    this.stdout = this.child.stdout;
    const stderr = this.child.stderr;
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      const text = this.tail + chunk;
      this.tailCut ||= text.length > STDERR_TAIL_CHARS;
      this.tail = text.slice(-STDERR_TAIL_CHARS);
    });
    stderr.on('error', () => {});
    let stderrClosed = false;
    stderr.once('close', () => {
      stderrClosed = true;
    });
    this.child.on('error', (error) => {
      if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    });
    this.child.once('exit', (code, signal) => {
      this.stopGroup(); // what `claude` started and left behind
      // The SDK reads the exit as the end of the session: deliver it once stderr is read (a
      // grandchild holding the pipe open delays it only a moment).
      const deliver = () => {
        if (!stderrClosed) stderr.destroy();
        this.events.emit('exit', code, signal);
      };
      if (stderrClosed) deliver();
      else {
        const wait = setTimeout(deliver, STDERR_WAIT_MS);
        stderr.once('close', () => {
          clearTimeout(wait);
          deliver();
        });
      }
    });
    // Aborted by the SDK after its grace (stdin closed, two seconds): stop the group.
    options.signal.addEventListener('abort', () => this.stopGroup(), { once: true });
    if (this.child.pid !== undefined) {
      live.add(this);
      watchSignals();
      if (!exitHook) {
        exitHook = true;
        process.on('exit', killLiveGroupsAtExit);
      }
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get killed(): boolean {
    return this.signalled || this.child.killed;
  }

  get exitCode(): number | null {
    return this.child.exitCode;
  }

  get signalCode(): NodeJS.Signals | null {
    return this.child.signalCode;
  }

  /**
   * The end of what `claude` wrote on stderr (for the error of a session that ended without a
   * result), from a word's start: cut in the middle of a secret, the rest of it would escape
   * redaction, which finds only whole values.
   */
  stderrTail(): string {
    if (!this.tailCut) return this.tail;
    const space = this.tail.search(/\s/);
    return space === -1 ? '' : this.tail.slice(space + 1);
  }

  /** The SDK's kill: the whole group gets the signal; after a SIGTERM, SIGKILL follows if need be. */
  kill(signal: NodeJS.Signals): boolean {
    if (signal === 'SIGTERM' && this.stopping === undefined && live.has(this)) return this.stopGroup();
    return this.signal(signal);
  }

  /**
   * Stops the group once: SIGTERM now, SIGKILL after GROUP_GRACE_MS to what is still there; false
   * when there was nothing to stop. Until the group is gone a timer keeps the event loop alive (a
   * normal exit waits for it).
   */
  stopGroup(): boolean {
    if (this.stopping !== undefined || !live.has(this)) return false;
    if (!this.signal('SIGTERM')) {
      forget(this);
      return false;
    }
    const deadline = Date.now() + GROUP_GRACE_MS;
    const poll = () => {
      if (!this.alive()) {
        forget(this);
        return;
      }
      if (Date.now() >= deadline) {
        this.signal('SIGKILL');
        forget(this);
        return;
      }
      this.stopping = setTimeout(poll, POLL_MS);
    };
    this.stopping = setTimeout(poll, POLL_MS);
    return true;
  }

  /** Sends `signal` to the group (to `claude` alone on Windows); false when there is none left. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.child.pid;
    if (pid === undefined) return false;
    if (!this.grouped) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return false;
      const sent = this.child.kill(signal);
      this.signalled ||= sent;
      return sent;
    }
    try {
      process.kill(-pid, signal); // the group's id is claude's pid: kept while any member lives
      this.signalled = true;
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  }

  private alive(): boolean {
    if (!this.grouped) return this.child.exitCode === null && this.child.signalCode === null;
    const pid = this.child.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  on(event: 'exit', listener: ExitListener): void;
  on(event: 'error', listener: ErrorListener): void;
  on(event: 'exit' | 'error', listener: ExitListener | ErrorListener): void {
    this.events.on(event, listener);
  }

  once(event: 'exit', listener: ExitListener): void;
  once(event: 'error', listener: ErrorListener): void;
  once(event: 'exit' | 'error', listener: ExitListener | ErrorListener): void {
    this.events.once(event, listener);
  }

  off(event: 'exit', listener: ExitListener): void;
  off(event: 'error', listener: ErrorListener): void;
  off(event: 'exit' | 'error', listener: ExitListener | ErrorListener): void {
    this.events.off(event, listener);
  }
}

/** The SDK's spawnClaudeCodeProcess: `claude` in a process group of its own (see above). */
export function spawnInOwnGroup(options: SpawnOptions): SessionProcess {
  return new SessionProcess(options);
}
