// The public shape of a run, as `run --json`, `runs show --json`, the library and the HTTP API
// report it: snake_case, stable, built from the journal alone.
import {
  emptyTotals,
  type ItemTotals,
  type RunRecord,
  type RunStatus,
  type RunTotals,
  type StepRecord,
  type StepStatus,
  type Store,
} from '../journal/store.js';

export interface StepResult {
  name: string;
  key: string;
  type: string;
  status: StepStatus;
  output: unknown;
  error?: string;
  usage: { input_tokens: number; output_tokens: number; cache_read_tokens?: number; cache_write_tokens?: number };
  /**
   * What the step's priced calls cost. Calls to a model whose price is unknown are not in it:
   * `details.unpriced_calls` counts them; null when no call of the step was priced.
   */
  cost_usd: number | null;
  duration_ms: number;
  attempts: number;
  started_at: string;
  finished_at: string;
  details?: Record<string, unknown>;
}

export interface RunResult {
  run_id: string;
  pipeline: string;
  status: RunStatus;
  outputs: Record<string, unknown>;
  error?: string;
  failed_step?: string;
  started_at: string;
  finished_at?: string;
  duration_ms?: number;
  steps: StepResult[];
  totals: {
    input_tokens: number;
    output_tokens: number;
    /** What was paid at a known price (the known part of every step's and item's cost). */
    cost_usd: number;
    /** Calls whose price is unknown, not in cost_usd (those of the steps and of the batch items). */
    unpriced_calls: number;
    calls: number;
    cache_hits: number;
    cost_saved_usd: number;
    retries: number;
  };
}

/**
 * `items`: the journal's item totals (store.itemTotals), needed only while the run has not ended —
 * a running or killed run's batches may have no step row yet for the items they finished.
 */
export function buildRunResult(run: RunRecord, steps: StepRecord[], items: readonly ItemTotals[] = []): RunResult {
  // The row's totals are written when a run ends; a running (or killed) run's come from its journal.
  const t = run.finishedAt === undefined ? totalsOf(steps, items) : run.totals;
  const result: RunResult = {
    run_id: run.id,
    pipeline: run.pipelineName,
    status: run.status,
    outputs: run.outputs ?? {},
    started_at: new Date(run.startedAt).toISOString(),
    steps: steps.map(stepResult),
    totals: {
      input_tokens: t.inputTokens,
      output_tokens: t.outputTokens,
      cost_usd: round(t.costUsd),
      unpriced_calls: t.unpricedCalls,
      calls: t.calls,
      cache_hits: t.cacheHits,
      cost_saved_usd: round(t.costSavedUsd),
      retries: t.retries,
    },
  };
  if (run.error !== undefined) result.error = run.error;
  if (run.failedStep !== undefined) result.failed_step = run.failedStep;
  if (run.finishedAt !== undefined) {
    result.finished_at = new Date(run.finishedAt).toISOString();
    result.duration_ms = run.finishedAt - run.startedAt;
  }
  return result;
}

/** A run's totals: its row's once it ended, else what its journal (steps and items) says so far. */
export async function currentTotals(store: Pick<Store, 'getSteps' | 'itemTotals'>, run: RunRecord): Promise<RunTotals> {
  if (run.finishedAt !== undefined) return run.totals;
  const { steps, items } = await journalOf(store, run);
  return totalsOf(steps, items);
}

const BATCH_TYPES: ReadonlySet<string> = new Set(['batch', 'claude_batch']);
/** Below this, a succeeded batch row's cost beyond its items' is the float noise of summing in another order. */
const CARRIED_NOISE_USD = 1e-9;

/**
 * The run's totals, derived from the journal alone (so a killed run's spending is never lost): the
 * steps; the items of every batch, each of which keeps its own tokens, cost and calls (a batch that
 * failed or was killed has no step row to carry them, and a cluster chunk delivered twice reports
 * none for the items its first delivery journaled); and what the steps `resume --force` forgot had
 * spent (the FORGOTTEN_STEPS entry of `items`: it matches no step row).
 *
 * A batch's row counts only what its items do not, so that nothing is counted twice: a succeeded
 * one's tokens, cost, calls and calls of unknown price are its items', plus what a failed attempt's
 * row carried into it (carryEarlierBill), which alone count here; a failed one's carries none of its
 * items' (steps/batch.ts: an item stopped with its batch keeps its bill on its own row). Such an
 * earlier row carries tokens or cost only if an Elexirion before that wrote it (the bills of stopped
 * items rode on it).
 * Items journaled before they kept their calls count as the one call each made at least — but for
 * those a batch row's `items_run` says its `calls` counted already (how such rows were written).
 *
 * Cost: what was paid at a known price, all of it. `unpricedCalls` counts the calls whose price is
 * unknown: a step's `details.unpriced_calls` and an item's own count (its cost is then the known
 * part; null when nothing of it was priced), and one for each step or item of unknown cost journaled
 * before they counted them.
 */
export function totalsOf(records: Iterable<StepRecord>, items: readonly ItemTotals[] = []): RunTotals {
  const totals = emptyTotals();
  const byKey = new Map(items.map((i) => [i.stepKey, i]));
  const uncounted = new Map(items.map((i) => [i.stepKey, i.itemsWithoutCalls]));
  for (const r of records) {
    const d = r.details ?? {};
    const batch = BATCH_TYPES.has(r.type) ? byKey.get(r.key) : undefined;
    let calls = Number(d.calls ?? 0);
    if (batch && r.status === 'succeeded') {
      calls = Math.max(0, calls - batch.calls);
      totals.inputTokens += Math.max(0, r.usage.inputTokens - batch.inputTokens);
      totals.outputTokens += Math.max(0, r.usage.outputTokens - batch.outputTokens);
      const carried = (r.costUsd ?? 0) - batch.costUsd;
      if (carried > CARRIED_NOISE_USD) totals.costUsd += carried;
      totals.unpricedCalls += Math.max(0, Number(d.unpriced_calls ?? 0) - batch.unpricedCalls);
    } else {
      totals.inputTokens += r.usage.inputTokens;
      totals.outputTokens += r.usage.outputTokens;
      // The known part of a step's cost always counts; its calls of unknown price are counted apart.
      const unpriced = Number(d.unpriced_calls ?? 0);
      if (r.costUsd === null) totals.unpricedCalls += Math.max(1, unpriced);
      else {
        totals.costUsd += r.costUsd;
        totals.unpricedCalls += unpriced;
      }
    }
    if (batch) uncounted.set(r.key, Math.max(0, (uncounted.get(r.key) ?? 0) - itemsCounted(r)));
    totals.calls += calls;
    totals.cacheHits += Number(d.cache_hits ?? 0);
    totals.costSavedUsd += Number(d.cost_saved_usd ?? 0);
    totals.retries += Number(d.retries ?? 0);
  }
  for (const i of items) {
    totals.inputTokens += i.inputTokens;
    totals.outputTokens += i.outputTokens;
    totals.costUsd += i.costUsd;
    totals.unpricedCalls += i.unpricedCalls;
    totals.calls += i.calls;
    totals.cacheHits += i.cacheHits ?? 0;
    totals.costSavedUsd += i.costSavedUsd ?? 0;
    totals.retries += i.retries ?? 0;
  }
  for (const n of uncounted.values()) totals.calls += n;
  return totals;
}

/**
 * How many of a batch's journaled items without calls of their own (journaled before items kept
 * theirs) the row's `calls` counted: `items_counted` on rows written since (0, plus what a failed
 * attempt's row carried into it); on older rows, the items that attempt ran.
 */
export function itemsCounted(r: StepRecord): number {
  const d = r.details ?? {};
  return d.items_counted !== undefined ? Number(d.items_counted) : itemsRun(r);
}

/** The journaled items an older batch row says it ran (their calls are counted in it). */
function itemsRun(r: StepRecord): number {
  const d = r.details ?? {};
  if (d.items_run !== undefined) return Number(d.items_run);
  // A row written before `items_run` existed: a batch that succeeded ran all the others.
  return r.status === 'succeeded' ? Number(d.items ?? 0) - Number(d.from_journal ?? 0) : 0;
}

/** What buildRunResult needs besides the run's row. */
export async function journalOf(
  store: Pick<Store, 'getSteps' | 'itemTotals'>,
  run: RunRecord,
): Promise<{ steps: StepRecord[]; items: ItemTotals[] }> {
  const steps = await store.getSteps(run.id);
  return { steps, items: run.finishedAt === undefined ? await store.itemTotals(run.id) : [] };
}

function stepResult(s: StepRecord): StepResult {
  const usage: StepResult['usage'] = { input_tokens: s.usage.inputTokens, output_tokens: s.usage.outputTokens };
  if (s.usage.cacheReadTokens) usage.cache_read_tokens = s.usage.cacheReadTokens;
  if (s.usage.cacheWriteTokens) usage.cache_write_tokens = s.usage.cacheWriteTokens;
  const r: StepResult = {
    name: s.name,
    key: s.key,
    type: s.type,
    status: s.status,
    output: s.output ?? null,
    usage,
    cost_usd: s.costUsd === null ? null : round(s.costUsd),
    duration_ms: s.durationMs,
    attempts: s.attempts,
    started_at: isoTime(s.startedAt),
    finished_at: isoTime(s.finishedAt),
  };
  if (s.error !== undefined) r.error = s.error;
  if (s.details !== undefined) {
    // What the cache saved is a sum of prices too: shown to the micro-dollar, as every cost is.
    const saved = s.details.cost_saved_usd;
    r.details = typeof saved === 'number' ? { ...s.details, cost_saved_usd: round(saved) } : s.details;
  }
  return r;
}

// The last instant formatted: a run's steps start and finish within the same millisecond by the
// dozen (a Date and its formatting cost ~0.4 µs each, twice per step of a 500-step run's result).
let lastMs = Number.NaN;
let lastIso = '';

/** `ms` (epoch milliseconds) as ISO 8601, as `new Date(ms).toISOString()` gives it. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Micro-dollar precision: enough for any bill, free of float noise like 0.30000000000000004. */
export function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
