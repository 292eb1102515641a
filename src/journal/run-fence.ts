// Fencing a run's writes. A run is claimed for an execution (Store.claimRun) by writing its owner and
// its `resumes` count, which every claim raises by one. An execution that another process has since
// claimed the run from — a cluster worker frozen past its job lock (a paused VM) whose run was taken
// over, and which runs again — must not commit anything more: its steps, events and final status
// would interleave with the new owner's (the same event seqs, a step row overwritten, the run's status
// set by whoever writes last). A fenced write commits only while the run still holds the claim it was
// executed under, checked atomically with the write itself; otherwise it is refused with
// RunTakenOverError, and the execution stops without journaling its end.
import { causedBy, ElexirionError, ExitCode } from '../errors.js';
import type { Store } from './store.js';

/** The claim an execution of a run holds: the run's `resumes` count as its claim wrote it (0 before any resume). */
export interface RunFence {
  runId: string;
  claim: number;
}

/** The claim a run's metadata records: what a fenced write compares (`metadata.resumes`, absent = 0). */
export function claimOf(metadata: Record<string, unknown>): number {
  return Number(metadata.resumes ?? 0);
}

/** A fenced write refused: another execution claimed the run since this one's claim. */
export class RunTakenOverError extends ElexirionError {
  constructor(readonly runId: string) {
    super(`run ${runId} was taken over by another process: this execution journals nothing more`, {
      exitCode: ExitCode.interrupted,
    });
  }
}

/** Whether `error` is (or was caused by) a refused fenced write: a step's commit wraps the store's error. */
export function takenOver(error: unknown): boolean {
  return causedBy(error, (e) => e instanceof RunTakenOverError);
}

/**
 * `store` as one execution of `fence.runId` writes to it: its commits of that run's steps, items,
 * events and record carry the fence; every other call goes to `store` as is. A store that does not
 * check fences (`checksFences` false: SQLite, one machine's journal) is given back itself — no
 * wrapper on every call of a run for a fence it would ignore.
 */
export function fencedStore(store: Store, fence: RunFence): Store {
  if (!store.checksFences) return store;
  const ours = (runIds: string[]) =>
    runIds.length > 0 && runIds.every((id) => id === fence.runId) ? fence : undefined;
  const writes: Pick<Store, 'commitStep' | 'commitItems' | 'appendEvents' | 'updateRun'> = {
    commitStep: (step, events) => store.commitStep(step, events, ours([step.runId])),
    commitItems: (items) => store.commitItems(items, ours(items.map((i) => i.runId))),
    appendEvents: (events) => store.appendEvents(events, ours(events.map((e) => e.runId))),
    updateRun: (id, patch) => store.updateRun(id, patch, ours([id])),
  };
  // Bound once: a run asks its store for a method on every commit and read.
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(writes, property)) return writes[property as keyof typeof writes];
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!bound.has(property)) bound.set(property, value.bind(target));
      return bound.get(property);
    },
  });
}
