// Runs one step under its policies — `when`, `timeout`, `fallback`, `on_error` — and commits its
// result to the journal before anyone downstream can see it (the journal's one rule).

import { BudgetExceededError } from '../budget/budget-guard.js';
import { parseDuration } from '../config/duration.js';
import type { Fallback, Step } from '../config/schema.js';
import { causedBy } from '../errors.js';
import type { StepRecord, StepStatus } from '../journal/store.js';
import { evaluateCondition } from '../template/render.js';
import { JournalError, messageOf, RunInterruptedError, StepFailedError, StepTimeoutError } from './errors.js';
import { LocatedTemplateError } from './located-render.js';
import { handlerFor } from './registry.js';
import type { RunContext } from './run-context.js';
import { isFinished } from './run-or-reuse.js';
import { itemsCounted } from './run-result.js';
import { settleWithin } from './settle-within.js';
import { addSpent, NOTHING_SPENT, type Spent, spentOf } from './spent.js';
import { addCost, addUsage, NO_USAGE, type StepOutcome } from './step-handler.js';
import { placedStepError, placedWhenError } from './step-template-place.js';

export const DEFAULT_STEP_TIMEOUT_MS = 300_000;
/** How long a stopped step may take to wind down on its AbortSignal before it is abandoned. */
export const ABORT_GRACE_MS = 2_000;

const noop = (): void => {};

/**
 * Steps made of other steps (a batch's items, a parallel group, a nested pipeline). Their inner
 * steps and calls each have a timeout; the default one would cut a long batch off after 5 minutes,
 * so a composite step is bounded as a whole only by its own explicit `timeout:`.
 */
const COMPOSITE_TYPES: ReadonlySet<string> = new Set(['batch', 'claude_batch', 'parallel', 'pipeline']);

export interface StepRunResult {
  record: StepRecord;
  /** The step failed and `on_error: continue` let the run go on. */
  continued: boolean;
}

/**
 * Runs `step` and returns its committed record. Throws StepFailedError when the step failed and its
 * policy says the run fails, RunInterruptedError when the run was stopped from outside.
 * `cancel` (a parallel group's signal) stops the step without journaling it: a step cancelled
 * because a sibling failed is neither succeeded nor failed, and a resume runs it again.
 */
export async function runStep(
  step: Step,
  run: RunContext,
  key: string = step.name,
  index = 0,
  cancel?: AbortSignal,
): Promise<StepRunResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  run.currentStep = key;
  const { bus } = run.services;
  bus.emit('pipeline.step.start', { runId: run.id, step: key, type: step.type, index });

  const scope = run.scope();
  let skip = false;
  try {
    skip = step.when !== undefined && !evaluateCondition(step.when, scope);
  } catch (caught) {
    // A `when` that cannot be evaluated is the step's failure, not the engine's crash: its
    // `on_error: continue` lets the run go on as for any failure of the step. (No fallback: which
    // call to fall back from is moot while nobody knows whether the step should run at all.)
    // A failing template is named at its place in the file, which says it is the `when`.
    const error = placedWhenError(caught, run.loaded, step);
    const record = makeRecord(run, key, step, 'failed', { output: null, usage: NO_USAGE, costUsd: 0, attempts: 0 });
    record.startedAt = startedAt;
    record.error = error instanceof LocatedTemplateError ? error.message : `when: ${messageOf(error)}`;
    const continued = (step.on_error ?? run.defaults.on_error ?? 'fail') === 'continue';
    if (continued) {
      record.details = { continued: true };
      await settleSubSteps(step, run, record);
    }
    await commit(run, record, t0);
    if (continued) return { record, continued };
    throw new StepFailedError(key, error);
  }
  if (skip) {
    const record = makeRecord(run, key, step, 'skipped', { output: null, usage: NO_USAGE, costUsd: 0, attempts: 0 });
    record.startedAt = startedAt;
    await settleSubSteps(step, run, record);
    await commit(run, record, t0);
    return { record, continued: false };
  }

  const timeoutMs =
    step.timeout === undefined && COMPOSITE_TYPES.has(step.type)
      ? Number.POSITIVE_INFINITY
      : parseDuration(step.timeout ?? run.defaults.timeout ?? DEFAULT_STEP_TIMEOUT_MS);
  let outcome: StepOutcome;
  let usedFallback: number | undefined;
  // What the step's failed executions spent, told by them: all a stopped step's record has to go on.
  let billed: Spent = NOTHING_SPENT;
  const bill = (spent: Spent): void => {
    billed = addSpent(billed, spent);
  };
  try {
    outcome = await withTimeout(
      run,
      key,
      timeoutMs,
      (signal, deadline) => handlerFor(step.type).execute(step, { run, key, signal, scope, deadline, bill }),
      cancel,
    );
  } catch (caught) {
    if (caught instanceof JournalError) throw caught; // a crash for the supervisor, not a step failure
    if (run.signal.aborted || cancel?.aborted) return stopped(run, key, step, billed, startedAt, t0, cancel);
    // A template of the step that failed is named at its place in the file (looked for only now).
    const error = placedStepError(caught, run.loaded, step);
    const fallbacks = fallbacksOf(step);
    let lastError: unknown = error;
    let recovered: StepOutcome | undefined;
    // What the failed attempts had paid for: it belongs to this step's bill whatever comes next.
    let failedSpent = spentOf(caught);
    for (const [i, fallback] of fallbacks.entries()) {
      // What the failed call streamed is void: consumers discard it, the fallback streams its own.
      if (streamsChunks(step, run))
        bus.emit('pipeline.step.chunk', { runId: run.id, step: key, text: '', reset: true });
      try {
        const fallbackStep = mergeFallback(step, fallback);
        recovered = await withTimeout(
          run,
          key,
          parseDuration(fallback.timeout ?? timeoutMs),
          (signal, deadline) =>
            handlerFor(fallbackStep.type).execute(fallbackStep, { run, key, signal, scope, deadline, bill }),
          cancel,
        );
        usedFallback = i;
        break;
      } catch (fallbackError) {
        if (run.signal.aborted || cancel?.aborted) return stopped(run, key, step, billed, startedAt, t0, cancel);
        lastError = placedStepError(fallbackError, run.loaded, step, i);
        failedSpent = addSpent(failedSpent, spentOf(fallbackError));
      }
    }
    if (!recovered) {
      const onError = step.on_error ?? run.defaults.on_error ?? 'fail';
      const record = makeRecord(run, key, step, 'failed', {
        output: null,
        usage: failedSpent.usage,
        costUsd: failedSpent.costUsd,
        // The attempts its calls really made (at least one: the step was tried, even without a call);
        // a step made of steps is tried once, whatever its inner calls tried.
        attempts: COMPOSITE_TYPES.has(step.type) ? 1 : Math.max(1, failedSpent.attempts),
        details: failedDetails(failedSpent),
      });
      record.startedAt = startedAt;
      record.error = fallbacks.length > 0 ? bothFailures(messageOf(error), messageOf(lastError)) : messageOf(error);
      // A budget refusal is the run's limit, not the step's failure: no `on_error` absorbs it — nor
      // that of a group or a pipeline step whose sub-step was refused (see isBudgetRefusal).
      if (onError === 'continue' && !isBudgetRefusal(lastError)) {
        record.details = { ...record.details, continued: true };
        await settleSubSteps(step, run, record);
        await commit(run, record, t0);
        return { record, continued: true };
      }
      await commit(run, record, t0);
      // The message names both failures; the cause keeps the last one's chain, so that an enclosing
      // group or pipeline step still sees a budget refusal in it.
      throw new StepFailedError(key, lastError === error ? error : new Error(record.error, { cause: lastError }));
    }
    outcome = {
      ...recovered,
      usage: addUsage(recovered.usage, failedSpent.usage),
      costUsd: addCost(recovered.costUsd, failedSpent.costUsd),
      attempts: recovered.attempts + failedSpent.attempts,
      details: addCounts(recovered.details, countsOf(failedSpent)),
    };
  }

  const record = makeRecord(run, key, step, 'succeeded', outcome);
  record.startedAt = startedAt;
  if (usedFallback !== undefined) record.details = { ...record.details, fallback: usedFallback };
  await commit(run, record, t0);
  return { record, continued: false };
}

/**
 * Whether `error` is a budget refusal, or a failure caused by one: a `parallel` group or a `pipeline`
 * step fails with its sub-step's StepFailedError, whose cause (at some depth) is the refusal. Their
 * `on_error: continue` must not absorb it any more than the sub-step's own does.
 */
function isBudgetRefusal(error: unknown): boolean {
  return causedBy(error, (e) => e instanceof BudgetExceededError, 100);
}

/**
 * A step stopped from outside — the run interrupted or cancelled, or a sibling's failure — throws
 * the stop's reason. It is not journaled (a resume runs it again) unless some of its calls were paid:
 * then it is journaled failed with their bill, which its next execution carries on (carryEarlierBill)
 * and the run's totals and a resume's budget count. A skipped stop would forget money spent.
 */
async function stopped(
  run: RunContext,
  key: string,
  step: Step,
  spent: Spent,
  startedAt: number,
  t0: number,
  cancel: AbortSignal | undefined,
): Promise<never> {
  const reason = run.signal.aborted ? interruption(run) : cancel?.reason;
  // Paid for: tokens or money (a call cut off by the stop, unanswered, paid nothing the engine knows of).
  if (spent.costUsd !== 0 || spent.usage.inputTokens + spent.usage.outputTokens > 0) {
    const record = makeRecord(run, key, step, 'failed', {
      output: null,
      usage: spent.usage,
      costUsd: spent.costUsd,
      attempts: Math.max(1, spent.attempts),
      details: { ...failedDetails(spent), stopped: true },
    });
    record.startedAt = startedAt;
    record.error = `stopped: ${messageOf(reason)}`;
    await commit(run, record, t0);
  }
  throw reason;
}

/**
 * What a failed step's record keeps of its calls: the run's totals read `calls` and `retries` here,
 * and a batch's `items_run` (the items it ran; a failed batch's `calls` are its items' own, journaled
 * with them, so it carries none — see totalsOf).
 */
function failedDetails(spent: Spent): Record<string, unknown> {
  // Calls a failed step had answered from the cache still count (and saved) in the run's totals.
  const details = addCounts(spent.details, countsOf(spent));
  if (spent.items !== undefined) {
    details.items_run = spent.items;
    details.items_counted = 0; // a batch's items journal their own calls (see totalsOf)
  }
  // The crashed executions whose calls it counted as paid: its bill carries them (noteExecutions).
  if (spent.recoveredFrom?.length) details.executions = [...spent.recoveredFrom];
  return details;
}

/**
 * Makes every sub-step of a parallel group that was skipped, or that failed under `on_error:
 * continue`, a step later steps can read (`steps.NAME.output` is null), as the docs promise and the
 * load-time check assumes. A sub-step the group never ran, or cancelled, is journaled — skipped with
 * a skipped group, else failed (cancelled) and continued — because a resume never runs the group
 * again and rebuilds its scope from the journal. A sub-step that failed on its own keeps its record
 * (the group's policy absorbed its failure) and is published, on a resume too. Nested groups
 * likewise. Idempotent: run again for a group taken from the journal, it settles what a journal
 * written before this existed lacks.
 */
export async function settleSubSteps(group: Step, run: RunContext, groupRecord: StepRecord): Promise<void> {
  if (group.type !== 'parallel') return;
  for (const [index, sub] of group.steps.entries()) {
    const key = run.keyFor(sub.name);
    const done = run.records.get(key);
    await settleSubSteps(sub, run, groupRecord);
    if (done) {
      if (!isFinished(done)) run.publish(done);
      continue;
    }
    const t0 = performance.now();
    const skipped = groupRecord.status === 'skipped';
    // Announced like any skipped step; a cancelled one may have been announced as it started.
    if (skipped) run.services.bus.emit('pipeline.step.start', { runId: run.id, step: key, type: sub.type, index });
    const record = makeRecord(run, key, sub, skipped ? 'skipped' : 'failed', {
      output: null,
      usage: NO_USAGE,
      costUsd: 0,
      attempts: 0,
    });
    record.startedAt = Date.now();
    if (!skipped) {
      record.error = `cancelled: parallel group "${groupRecord.name}" failed`;
      record.details = { continued: true, cancelled: true };
    }
    await commit(run, record, t0);
  }
}

function interruption(run: RunContext): RunInterruptedError {
  const reason = run.signal.reason;
  return reason instanceof RunInterruptedError ? reason : new RunInterruptedError('interrupted');
}

/**
 * Runs `task` with a signal that fires on the step's timeout or the run's abort (or `cancel`), and
 * settles as soon as that signal fires even if the task ignores it: a step can never outlive its
 * timeout. An infinite `timeoutMs` sets no timer. `task` learns when the timeout will fire (its
 * deadline on performance.now()), so that what it runs needs no second timer for the same instant.
 *
 * A promise chain, not an async function: with hundreds of steps in flight, each suspended frame is
 * copied by every garbage collection while its call waits.
 */
export function withTimeout<T>(
  run: RunContext,
  key: string,
  timeoutMs: number,
  task: (signal: AbortSignal, deadline: number | undefined) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  if (run.signal.aborted) return Promise.reject(interruption(run));
  if (cancel?.aborted) return Promise.reject(cancel.reason);
  const controller = new AbortController();
  // Settles the step's promise with the first of: the task's outcome, or its stop.
  let settleAborted: (reason: unknown) => void = noop;
  // Every way the step is stopped goes through here: the step's signal fires and the race ends
  // (rather than a listener on our own signal: one listener fewer per step).
  const stop = (reason: unknown) => {
    controller.abort(reason);
    settleAborted(controller.signal.reason);
  };
  const offRun = run.onStop(stop);
  const onCancel = () => stop(cancel?.reason);
  cancel?.addEventListener('abort', onCancel, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let deadline: number | undefined;
  if (Number.isFinite(timeoutMs)) {
    deadline = performance.now() + timeoutMs;
    timer = setTimeout(() => stop(new StepTimeoutError(key, timeoutMs)), timeoutMs);
  }
  const cleanUp = (): void => {
    clearTimeout(timer);
    timer = undefined;
    offRun();
    cancel?.removeEventListener('abort', onCancel);
  };
  let settleDone: (value: T) => void = noop;
  const raced = new Promise<T>((resolve, reject) => {
    settleDone = resolve;
    settleAborted = reject;
  });
  let work: Promise<T>;
  try {
    work = task(controller.signal, deadline);
  } catch (error) {
    work = Promise.reject(error);
  }
  work.then(settleDone, settleAborted);
  return raced.then(
    (value) => {
      cleanUp();
      return value;
    },
    (error: unknown) => {
      // Stopped (timeout, Ctrl-C, a failing sibling): give the step a moment to wind down on its
      // signal, so that what it finished — a batch's last items — is committed before the run ends
      // and the journal closes. A step that ignores its signal is abandoned after the grace.
      const settled = controller.signal.aborted ? settleWithin(work, ABORT_GRACE_MS) : Promise.resolve();
      return settled.then(() => {
        cleanUp();
        throw error;
      });
    },
  );
}

/** Whether the step streams its text (`pipeline.step.chunk`), as its handler decides it. */
function streamsChunks(step: Step, run: RunContext): boolean {
  return step.stream ?? run.defaults.stream ?? run.options.stream ?? false;
}

export function fallbacksOf(step: Step): Fallback[] {
  if (!('fallback' in step) || step.fallback === undefined) return [];
  return Array.isArray(step.fallback) ? step.fallback : [step.fallback];
}

/**
 * A fallback is the same call with some fields replaced (another provider, model or prompt). Its
 * own `timeout:` replaces the step's too: the call takes it as the timeout of each attempt.
 */
export function mergeFallback(step: Step, fallback: Fallback): Step {
  const merged = { ...step, ...fallback } as Record<string, unknown>;
  delete merged.fallback;
  // A fallback of another type (claude → gemini) must not inherit the first call's provider.
  if (fallback.type !== undefined && fallback.type !== step.type && fallback.provider === undefined)
    delete merged.provider;
  if (fallback.type !== undefined && fallback.type !== step.type && fallback.model === undefined) delete merged.model;
  return merged as Step;
}

/** The counters a step's details add up over its attempts: the first two always written. */
const ALWAYS_COUNTED = ['calls', 'retries'] as const;
const COUNTED_WHEN_ANY = ['cache_hits', 'cost_saved_usd', 'unpriced_calls'] as const;
const COUNTERS = [...ALWAYS_COUNTED, ...COUNTED_WHEN_ANY];

/** `details` with each counter of `more` added to its own (other keys of `details` kept). */
function addCounts(
  details: Record<string, unknown> | undefined,
  more: Record<string, unknown>,
): Record<string, unknown> {
  const sum: Record<string, unknown> = { ...details };
  for (const key of ALWAYS_COUNTED) sum[key] = Number(sum[key] ?? 0) + Number(more[key] ?? 0);
  for (const key of COUNTED_WHEN_ANY) {
    const add = Number(more[key] ?? 0);
    if (add !== 0) sum[key] = Number(sum[key] ?? 0) + add;
  }
  return sum;
}

/** What failed attempts spent, as the counters of a step's details. */
function countsOf(spent: Spent): Record<string, unknown> {
  return {
    calls: spent.calls,
    retries: spent.retries,
    cache_hits: spent.cacheHits,
    cost_saved_usd: spent.costSavedUsd,
    unpriced_calls: spent.unpricedCalls,
  };
}

/**
 * A step that failed in an earlier attempt of the run (before a resume or a restart) is journaled
 * again under the same key, and the new row replaces the old one: what the failed attempt paid for
 * — its tokens, cost, calls and retries, and a batch's items it ran — is added to the new record,
 * so that the run's totals (derived from the journal) never forget money that was spent.
 */
/**
 * A failed record whose bill a later execution will carry on says which executions that bill is of
 * (`details.executions`): a later execution that finds their answers in the cache counts them free,
 * and counts as paid those of an execution that crashed before journaling anything (model-caller.ts).
 * Those are this execution, the ones the carried record lists, and the crashed ones whose calls this
 * execution counted as paid (failedDetails put them there): counted once, never again.
 * A carried record that does not say (written before) leaves it unsaid: it covers every execution.
 */
function noteExecutions(run: RunContext, record: StepRecord, carried: StepRecord | undefined): void {
  const before = carried?.details?.executions;
  const recovered = record.details?.executions as string[] | undefined;
  if (carried !== undefined && !Array.isArray(before)) {
    if (recovered !== undefined) {
      const { executions: _unsaid, ...details } = record.details as Record<string, unknown>;
      record.details = details;
    }
    return;
  }
  const executions = [...new Set([...((before as string[] | undefined) ?? []), ...(recovered ?? []), run.execution])];
  record.details = { ...record.details, executions };
}

function carryEarlierBill(record: StepRecord, earlier: StepRecord): void {
  record.usage = addUsage(record.usage, earlier.usage);
  record.costUsd = addCost(record.costUsd, earlier.costUsd);
  const before = earlier.details ?? {};
  const batch = before.items_run !== undefined || before.items_counted !== undefined;
  if (!batch && COUNTERS.every((key) => Number(before[key] ?? 0) === 0)) return;
  const details = addCounts(record.details, before);
  if (before.items_run !== undefined) details.items_run = Number(details.items_run ?? 0) + Number(before.items_run);
  // The earlier row's calls, carried here, counted some callless items: this row now counts them.
  if (batch) {
    details.items_counted = Number(details.items_counted ?? 0) + itemsCounted(earlier);
  }
  record.details = details;
}

function makeRecord(run: RunContext, key: string, step: Step, status: StepStatus, outcome: StepOutcome): StepRecord {
  const record: StepRecord = {
    runId: run.id,
    key,
    name: step.name,
    type: step.type,
    status,
    output: outcome.output,
    usage: outcome.usage,
    costUsd: outcome.costUsd,
    durationMs: 0,
    attempts: outcome.attempts,
    startedAt: 0,
    finishedAt: 0,
  };
  if (outcome.details) record.details = outcome.details;
  return record;
}

async function commit(run: RunContext, record: StepRecord, t0: number): Promise<void> {
  const earlier = run.records.get(record.key);
  const carries = earlier !== undefined && earlier !== record && !isFinished(earlier);
  if (carries) carryEarlierBill(record, earlier);
  if (!isFinished(record)) noteExecutions(run, record, carries ? earlier : undefined);
  record.durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
  record.finishedAt = Date.now();
  // step.stop is part of the same transaction as the result: the journal never shows one without the other.
  const stop = {
    runId: run.id,
    step: record.key,
    type: record.type,
    status: record.status,
    durationMs: record.durationMs,
    usage: record.usage,
    costUsd: record.costUsd,
    attempts: record.attempts,
    fromJournal: false,
    ...(record.error === undefined ? {} : { error: record.error }),
  };
  run.journalEvent('pipeline.step.stop', record.finishedAt, stop);
  try {
    await run.services.store.commitStep(record, run.takeEvents());
  } catch (error) {
    throw new JournalError(error);
  }
  run.noteCommitted(record);
  run.publish(record);
  run.services.bus.emit('pipeline.step.stop', stop);
}

/**
 * A step's failure and its last fallback's, in one message: on one line when the step's is one
 * line; else the fallback's on a line of its own, so that the step's `hint:` line stays with it.
 */
function bothFailures(step: string, fallback: string): string {
  return step.includes('\n') ? `${step}\nfallback failed: ${fallback}` : `${step}; fallback failed: ${fallback}`;
}
