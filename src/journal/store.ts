// The journal's storage interface. Asynchronous from day one (PostgreSQL is), even though the
// SQLite implementation is synchronous underneath. One interface, several implementations, one
// conformance suite (test/journal/store-conformance.ts) that every implementation must pass.
import type { Usage } from '../providers/provider.js';
import type { RunFence } from './run-fence.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'cancelled';
/** Every RunStatus, for the places that check a status given as text (`--status`, `?status=`). */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'interrupted', 'cancelled'];
export type StepStatus = 'succeeded' | 'failed' | 'skipped';
export type ItemStatus = 'succeeded' | 'failed';

export interface RunTotals {
  inputTokens: number;
  outputTokens: number;
  /** What was paid at a known price: the known part of every step's and item's cost. */
  costUsd: number;
  /**
   * Calls whose cost is unknown (a model missing from the price table), not in `costUsd`. A step or
   * an item of unknown cost journaled before they counted their unpriced calls counts one.
   */
  unpricedCalls: number;
  calls: number;
  cacheHits: number;
  costSavedUsd: number;
  retries: number;
}

export interface RunRecord {
  id: string;
  pipelineName: string;
  /** Absolute path of the pipeline file, when it came from one. */
  pipelineFile?: string;
  /** Hash of the normalized pipeline: resume refuses a pipeline that changed. */
  pipelineHash: string;
  /** The normalized pipeline document (JSON), so a run can be resumed even if the file is gone. */
  pipeline: unknown;
  inputs: Record<string, unknown>;
  status: RunStatus;
  error?: string;
  /** The step whose failure failed the run. */
  failedStep?: string;
  outputs?: Record<string, unknown>;
  startedAt: number;
  finishedAt?: number;
  totals: RunTotals;
  /** Free-form: options the run was started with (mock, max cost, …), restarts, parent run. */
  metadata: Record<string, unknown>;
}

export interface StepRecord {
  runId: string;
  /** Unique within the run: the step name, or a path for nested steps (`review/fix`). */
  key: string;
  name: string;
  type: string;
  status: StepStatus;
  output?: unknown;
  error?: string;
  usage: Usage;
  /**
   * What the step's priced calls cost (`details.unpriced_calls`: how many calls had no price and
   * are not in it); null when none of them was priced.
   */
  costUsd: number | null;
  durationMs: number;
  attempts: number;
  startedAt: number;
  finishedAt: number;
  /** Provider, model, cache hits, retries … whatever the handler wants kept. */
  details?: Record<string, unknown>;
}

export interface ItemRecord {
  runId: string;
  stepKey: string;
  index: number;
  status: ItemStatus;
  output?: unknown;
  error?: string;
  usage: Usage;
  /** What the item's priced calls cost; null when none of them was priced. */
  costUsd: number | null;
  attempts: number;
  durationMs: number;
  /**
   * The provider calls the item made, its failed attempts' and fallbacks' included. Kept with the
   * item, as its tokens and cost are, so that the run's `calls` total is derived from the items
   * (a batch's own count may miss items: a cluster chunk delivery that died between journaling
   * items and recording their counts in Redis, chunk-stats.ts). Absent: journaled by an Elexirion
   * that did not keep them.
   */
  calls?: number;
  /**
   * Of those calls, the ones whose price is unknown (not in `costUsd`): a priced call and an
   * unpriced fallback make a known cost that is not the whole of it. Absent: none — or journaled by
   * an Elexirion that did not count them, whose item of unknown cost counts as one (itemUnpricedCalls).
   */
  unpricedCalls?: number;
}

export interface ItemCounts {
  succeeded: number;
  failed: number;
  stopped: number;
}

/** The error an item stopped by its batch is journaled with begins with this (batch-item.ts). */
export const STOPPED_ITEM_PREFIX = 'stopped: ';

/**
 * The calls of unknown price an item stands for: its own count, and at least one when its cost is
 * unknown (an item journaled before items counted them kept only a null cost). The stores' itemTotals
 * sum the same in SQL.
 */
export function itemUnpricedCalls(item: Pick<ItemRecord, 'costUsd' | 'unpricedCalls'>): number {
  return Math.max(item.unpricedCalls ?? 0, item.costUsd === null ? 1 : 0);
}

/**
 * What the journal holds of a run's spending outside its step rows, per step key: the items of each
 * batch (a failed or killed batch has no step row to carry what its finished items cost), and, under
 * FORGOTTEN_STEPS, what the steps `resume --force` forgot had spent (see deleteSteps).
 */
export interface ItemTotals {
  stepKey: string;
  items: number;
  inputTokens: number;
  outputTokens: number;
  /** What the items' priced calls cost. */
  costUsd: number;
  /** The items' calls of unknown price, not in `costUsd` (itemUnpricedCalls of each item). */
  unpricedCalls: number;
  /** The sum of the items' calls, of those that record them. */
  calls: number;
  /** Items journaled before items kept their calls: each made one call at least. */
  itemsWithoutCalls: number;
  /** FORGOTTEN_STEPS only (items keep none of these): the rest of the forgotten steps' totals. */
  cacheHits?: number;
  retries?: number;
  costSavedUsd?: number;
}

/** The ItemTotals key of what forgotten steps spent: no step key can be it (names are identifiers). */
export const FORGOTTEN_STEPS = '(forgotten)';

/** The FORGOTTEN_STEPS entry of a run whose forgotten steps had spent `spent`. */
export function forgottenTotals(spent: RunTotals): ItemTotals {
  return {
    stepKey: FORGOTTEN_STEPS,
    items: 0,
    inputTokens: spent.inputTokens,
    outputTokens: spent.outputTokens,
    costUsd: spent.costUsd,
    unpricedCalls: spent.unpricedCalls,
    calls: spent.calls,
    itemsWithoutCalls: 0,
    cacheHits: spent.cacheHits,
    retries: spent.retries,
    costSavedUsd: spent.costSavedUsd,
  };
}

export interface EventRecord {
  runId: string;
  /** Increasing per run, from 1: the id a live stream resumes from (Last-Event-ID). */
  seq: number;
  type: string;
  at: number;
  data: Record<string, unknown>;
}

/** One provider call, stored under the content address of its canonical request. */
export interface CallRecord {
  key: string;
  provider: string;
  model: string;
  request: unknown;
  response: unknown;
  usage: Usage;
  costUsd: number | null;
  createdAt: number;
  /** After this instant the record no longer answers as a cache hit (it stays as history). */
  expiresAt: number | null;
  /**
   * Who paid for the answer: `RUN\nSTEP\nEXECUTION` of the step that called the provider (model-caller.ts).
   * A run restarted after a crash that finds its own step's answer here has it for free, but it was
   * paid: its cost is the step's, not a saving. Absent: paid for by a batch item, or recorded before.
   */
  paidBy?: string;
  /**
   * What calls under this key cost whose answers are kept by no record: an answer the caller
   * rejected (a refusal, a structured answer that fails its schema) or a call that failed after
   * billed attempts (Store.putBill). Never an answer — kept for a run restarted after a crash, whose
   * step makes the same call again: what its crashed execution paid is its bill (model-caller.ts).
   * Oldest first, at most MAX_CALL_BILLS. Absent: none.
   */
  bills?: CallBill[];
}

/** A paid call whose answer no record keeps (CallRecord.bills). */
export interface CallBill {
  /** Who paid: as CallRecord.paidBy. */
  paidBy: string;
  usage: Usage;
  /** null: unpriced. */
  costUsd: number | null;
}

/**
 * The bills a call record keeps, the newest: a bill is read back by the step that paid it, when a
 * restart of its run makes the same call — this many other payers' bills of the very same request
 * in between would push it out.
 */
export const MAX_CALL_BILLS = 16;

/** A run's place in the list of runs (newest first: by start, then by id, both descending). */
export interface RunCursor {
  startedAt: number;
  id: string;
}

export interface ListRunsOptions {
  limit?: number;
  status?: RunStatus;
  /** Only the runs listed after this place: a page that follows where the last one ended. */
  before?: RunCursor;
}

export interface Store {
  /**
   * Whether the store checks the `fence` of a run's writes (PostgreSQL): false, it ignores them
   * (SQLite, one machine's journal), and an execution writes to it without fencing (fencedStore).
   */
  readonly checksFences: boolean;
  /** Creates or upgrades the schema. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * Makes every write that has resolved readable by other processes now. A write is durable when
   * it resolves, but a store may show it to others later (SQLite applies its write-ahead log to
   * the tables behind); call this before handing work to another process (a queued job) that
   * must read what was just written.
   */
  publish(): Promise<void>;

  createRun(run: RunRecord): Promise<void>;
  /**
   * `fence` (here and on the other writes of a run): the write commits only while the run still
   * holds that claim, else it is refused with RunTakenOverError (run-fence.ts). A store that cannot
   * check it atomically with the write (SQLite, one machine's journal) ignores it.
   */
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, fence?: RunFence): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /**
   * Compare-and-set: applies `patch` only if the run still has the status and metadata it was read
   * with. Resolves true when it did — so that of two processes resuming one run, exactly one wins.
   */
  claimRun(
    id: string,
    expected: Pick<RunRecord, 'status' | 'metadata'>,
    patch: Partial<Omit<RunRecord, 'id'>>,
  ): Promise<boolean>;
  listRuns(options?: ListRunsOptions): Promise<RunRecord[]>;

  /** Durable before it resolves: a step result exists for nobody until this has returned. */
  commitStep(step: StepRecord, events?: EventRecord[], fence?: RunFence): Promise<void>;
  getSteps(runId: string): Promise<StepRecord[]>;
  /**
   * Forget steps, their items, and every step and item nested under them (`key/…`): resume
   * --force re-runs from the first changed step, and must not reuse a half-run batch's items.
   * `forgottenSpend`: what every step forgotten so far (these included) had spent. Their rows go,
   * the money stays paid: it is kept with the run — in the same transaction as the deletion, so
   * that no crash can lose it or count it twice — and itemTotals reports it (FORGOTTEN_STEPS).
   */
  deleteSteps(runId: string, keys: string[], forgottenSpend?: RunTotals): Promise<void>;

  /** Items of a batch, committed together in one transaction (many items finish at once). */
  commitItems(items: ItemRecord[], fence?: RunFence): Promise<void>;
  getItems(runId: string, stepKey: string, range?: { from: number; to: number }): Promise<ItemRecord[]>;
  /**
   * The items of a batch step by outcome. `stopped`: journaled failed only because their batch was
   * stopped around them after they had paid for calls (`stopped: …`, their bill kept) — not failed on
   * their own (a fail-fast batch must not fail for them), and run again by a resume; not in `failed`.
   */
  countItems(runId: string, stepKey: string): Promise<ItemCounts>;
  /**
   * What the items of a run cost, per batch step key (a failed or killed batch has no step row),
   * and what its forgotten steps had cost (FORGOTTEN_STEPS), if any.
   */
  itemTotals(runId: string): Promise<ItemTotals[]>;

  appendEvents(events: EventRecord[], fence?: RunFence): Promise<void>;
  getEvents(runId: string, afterSeq?: number, limit?: number): Promise<EventRecord[]>;
  /**
   * The seq and time of each `pipeline.execution.start` of the run, in seq order: where each of its
   * executions began (the event stream places a client's Last-Event-ID by them). Optional: without
   * it the stream reads the events themselves, a page at a time.
   */
  executionStarts?(runId: string): Promise<Array<{ seq: number; at: number }>>;
  /** The highest event sequence number of a run (0 when it has none). */
  lastEventSeq(runId: string): Promise<number>;

  putCall(call: CallRecord): Promise<void>;
  /** Many calls in one transaction (the call cache writes behind, in batches). */
  putCalls(calls: CallRecord[]): Promise<void>;
  /**
   * Durable before it resolves: adds `bill` to the bills of the record under `call.key` (the oldest
   * dropped past MAX_CALL_BILLS), and nothing else of it — an answer it holds stays, and an answer
   * put later (putCall) keeps the bills. A key without a record gets `call` (which answers nothing:
   * `expiresAt` its `createdAt`) with `bills: [bill]`.
   */
  putBill(call: CallRecord, bill: CallBill): Promise<void>;
  /**
   * The record for `key`, if any and not expired at `now` — or expired, when it keeps bills (bills
   * never expire: the caller tells an answer from a record of bills alone by its expiry).
   */
  getCall(key: string, now: number): Promise<CallRecord | undefined>;
  /**
   * False when the journal certainly holds no call record under `key`, answered from memory (the
   * SQLite store's key filter); true when it may. The call cache asks it before `getCall`
   * (CallCache.certainMiss), which then reads. Optional: a store without it is always read.
   */
  mayHaveCall?(key: string): boolean;
  /**
   * One committed write that changes nothing a run reads, for the health check: rejects while the
   * journal takes no writes. Optional: the health check probes a SQLite journal's directory itself.
   */
  probeWrite?(): Promise<void>;
}

export function emptyTotals(): RunTotals {
  return {
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    unpricedCalls: 0,
    calls: 0,
    cacheHits: 0,
    costSavedUsd: 0,
    retries: 0,
  };
}
