// Runs the journal still has `running` that nobody will finish: their owner, a process of this host,
// is gone — killed (SIGKILL, the kernel's OOM killer), or the machine went down — before it could
// journal their end. Left so, `elexirion runs` and the dashboard would show them running for ever
// and a reader could not tell them from live ones. They are ended `interrupted`, which is what they
// are — resumable, what they finished kept — with why (`error`) and their totals so far: by
// `elexirion runs`, `runs show` and `serve` as they read the journal. Nothing is run again here;
// `elexirion resume` does that, and pays only for what was not finished.
//
// Only an owner this process can check: a process of this host in this pid namespace (another
// host's runs, on a shared PostgreSQL journal, may be alive; a container's pids are its own), never
// this process itself (its runs are its supervisor's), never a cluster's run (its queue re-delivers
// it, src/cluster/orphaned-run.ts). The end is a compare-and-set on the run's claim: a resume that
// took the run meanwhile keeps it.
import type { RunRecord, Store } from '../journal/store.js';
import { goneOwner } from './run-owner.js';
import { journalOf, totalsOf } from './run-result.js';

/** At most this many running runs are looked at per call (the newest first). */
const LOOKED_AT = 1_000;

/** Ends `record`'s run `interrupted` with `error` if the journal still has it running as it says. */
export async function endInterrupted(
  store: Store,
  record: RunRecord,
  error: string,
  /** When it ended: now (default), or `lastJournaled` for a run whose end nobody saw. */
  at: 'now' | 'lastJournaled' = 'now',
): Promise<boolean> {
  // What its executions journaled, as a run's end totals it (its row had none while it ran).
  const { steps, items } = await journalOf(store, record);
  const totals = totalsOf(steps, items);
  const finishedAt =
    at === 'now' ? Date.now() : steps.reduce((last, step) => Math.max(last, step.finishedAt ?? 0), record.startedAt);
  return store.claimRun(
    record.id,
    { status: 'running', metadata: record.metadata },
    { status: 'interrupted', finishedAt, totals, error },
  );
}

/**
 * Ends `record`'s run `interrupted` if it is running and its owner is gone (run-owner.ts); whether
 * it did. (An execution active in this process has this process as its owner: never gone.) Never throws: a journal this process may only read (`elexirion runs` on
 * another user's) shows the run as it is.
 */
export async function endIfOrphaned(store: Store, record: RunRecord): Promise<boolean> {
  if (record.status !== 'running') return false;
  const owner = goneOwner(record.metadata);
  if (owner === undefined) return false;
  const why = `its process (${owner}) ended before the run did: killed, or the machine stopped`;
  // Its end is not known: its duration runs to the last step it journaled, not to this look.
  return endInterrupted(store, record, why, 'lastJournaled').catch(() => false);
}

/** Ends `interrupted` every running run whose owner is gone (endIfOrphaned); their ids. */
export async function interruptOrphanedRuns(store: Store): Promise<string[]> {
  const ended: string[] = [];
  for (const record of await store.listRuns({ status: 'running', limit: LOOKED_AT })) {
    if (await endIfOrphaned(store, record)) ended.push(record.id);
  }
  return ended;
}
