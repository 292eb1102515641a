// The hook that lets a batch spread over a cluster: when the engine's bus has a RemoteBatch attached
// (a cluster worker attaches one), a large top-level batch does not run its items here — it hands
// them to the remote side (child jobs on every worker) and waits until every item has an outcome in
// the journal. The output is assembled from the journal either way, so a batch reads the same.
import type { EventBus } from '../../telemetry/event-bus.js';

export interface RemoteBatchRequest {
  runId: string;
  stepKey: string;
  total: number;
  /** `on_item_error: fail`: stop at the first failed item. */
  failFast: boolean;
  /** Fires when the step times out or the run stops. */
  signal: AbortSignal;
  /** Items with an outcome so far (from the journal), for progress. */
  onProgress(done: number, failed: number): void;
}

export interface RemoteBatchStats {
  /** What the chunks reported: not what the batch counts (each item keeps its calls in the journal). */
  calls: number;
  cacheHits: number;
  retries: number;
  costSavedUsd: number;
}

export interface RemoteBatch {
  /**
   * Whether a batch of `total` items under journal key `stepKey` goes to the cluster. Asked only for
   * a top-level step of the run's pipeline: the workers find the step there by name.
   */
  accepts(stepKey: string, total: number): boolean;
  /** Resolves when every item has an outcome in the journal (or, failFast, the first failure). */
  run(request: RemoteBatchRequest): Promise<RemoteBatchStats>;
}

const attached = new WeakMap<EventBus, RemoteBatch>();

/** Makes every batch of the engine on `bus` ask `remote` first. Returns the detach. */
export function attachRemoteBatch(bus: EventBus, remote: RemoteBatch): () => void {
  attached.set(bus, remote);
  return () => attached.delete(bus);
}

export function remoteBatchOf(bus: EventBus): RemoteBatch | undefined {
  return attached.get(bus);
}
