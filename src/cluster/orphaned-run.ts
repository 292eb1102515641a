// A run whose job the queue has failed for good: its attempts spent, or found stalled more often
// than maxStalledCount — its workers lost it every time (frozen, or cut off from Redis past a lock)
// and gave the run up, journaling nothing more. No worker takes that job again, and nobody has
// journaled the run's end: left so, it would read `running` for ever, and a resume on the last
// worker's host would be refused (its owner lives). It ends `interrupted` instead, with the queue's
// reason: resumable, as a run a drain interrupted is.
import { endInterrupted } from '../engine/orphaned-runs.js';
import type { Store } from '../journal/store.js';

/** Ends run `runId` `interrupted` if the journal still has it running; whether it did. */
export async function endOrphanedRun(store: Store, runId: string, reason: string): Promise<boolean> {
  const record = await store.getRun(runId);
  if (record?.status !== 'running') return false;
  // Compared with the claim read: a resume that claimed the run meanwhile owns it, and is left alone.
  return endInterrupted(store, record, `the cluster gave up on its job: ${reason}`);
}
