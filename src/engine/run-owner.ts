// Who runs a run: the process that started or resumed it, as its metadata records it (pid, host, pid
// namespace, the process's start), and whether that process is still alive — what a resume asks
// before taking a run over, and what tells a run killed with its process from a live one.
import { hostname } from 'node:os';
import { PID_NAMESPACE, PROCESS_START, processGone, processStart } from '../journal/journal-logs.js';

// Read once: os.hostname() is a system call, and every run records its owner.
let host: string | undefined;
export const thisHost = (): string => {
  host ??= hostname();
  return host;
};

/** This process as a run's owner, for its metadata. */
export function thisOwner(): Record<string, unknown> {
  return {
    pid: process.pid,
    host: thisHost(),
    ...(PID_NAMESPACE === undefined ? {} : { pidns: PID_NAMESPACE }),
    ...(PROCESS_START === undefined ? {} : { started: PROCESS_START }),
  };
}

interface Owner {
  pid?: unknown;
  host?: unknown;
  pidns?: unknown;
  started?: unknown;
  cluster?: unknown;
}

/**
 * Whether the process a run's metadata names as its owner is alive (for a run not active in this
 * process: the engine answers for its own). A pid is checked only in its own pid namespace: a
 * container sharing the hostname and the journal has pids of its own (`unknown`, never taken for
 * gone). A process of another user answers EPERM: alive. Another host's process cannot be checked
 * and is taken for gone, as it always was (a journal is one machine's; a cluster's runs are leased
 * through Redis).
 */
export function ownerState(metadata: Record<string, unknown>): 'alive' | 'gone' | 'unknown' {
  const { pid, host, pidns, started } = metadata as Owner;
  if (host !== thisHost() || typeof pid !== 'number') return 'gone';
  if (pidns !== undefined && PID_NAMESPACE !== undefined && pidns !== PID_NAMESPACE) return 'unknown';
  if (pid === process.pid) return 'gone'; // ours, and not active: a crashed attempt of this process
  return ownerLives(pid, started) ? 'alive' : 'gone';
}

/**
 * Whether process `pid` of this host lives and is the one that started at `started`: the kernel may
 * have given a dead owner's pid to another process since (a run journaled before starts were kept:
 * the pid alone).
 */
function ownerLives(pid: number, started: unknown): boolean {
  if (processGone(pid)) return false;
  const now = started === undefined ? undefined : processStart(pid);
  return now === undefined || now === started;
}

/**
 * The owner of a running run, described (`pid 4242 on build-7`), when this process can tell it is
 * gone: a process of this host and pid namespace — not another host's (on a shared journal it may
 * be alive), not this process (its runs are its supervisor's), not a cluster worker (its queue
 * re-delivers the run). Undefined otherwise.
 */
export function goneOwner(metadata: Record<string, unknown>): string | undefined {
  const { pid, host, pidns, started, cluster } = metadata as Owner;
  if (cluster !== undefined || typeof pid !== 'number' || pid === process.pid || host !== thisHost()) return undefined;
  if (pidns !== undefined && pidns !== PID_NAMESPACE) return undefined;
  return ownerLives(pid, started) ? undefined : `pid ${pid} on ${host}`;
}
