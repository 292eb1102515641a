// The glue between a step and a provider: one ModelCaller per step of a run. Order of a call:
//   replay cassette ▸ cache lookup (and recovered bills) ▸ budget check ▸ gate (retry ▸ rate limit
//   ▸ bulkhead ▸ breaker ▸ timeout) ▸ provider.generate | provider.stream ▸ redact the answer
//   ▸ record usage/cost ▸ cache put (or, for an answer the caller rejects, its bill) ▸ cassette record
// Everything the engine journals per step (attempts, retries, cache hits, cost saved) is handed
// to `onCallFinished`, once per call, success or failure. A call's usage and cost are those of every
// attempt the vendor billed: its answer, and any earlier answer that came back unusable (a
// ProviderError carrying `usage`) — priced like an answer, committed to the budget, never free.
import type { PriceFn } from '../budget/budget-guard.js';
import { estimateUsage } from '../budget/estimate.js';
import type { RunBudget } from '../budget/run-budget.js';
import type { CallCache } from '../journal/call-cache.js';
import { DEFAULT_CACHE_TTL_MS } from '../journal/call-cache.js';
import { callKey } from '../journal/call-key.js';
import type { CassettePlayer, CassetteRecorder } from '../journal/cassette.js';
import type { CallBill } from '../journal/store.js';
import type { ModelCaller, CallOptions as ModelCallOptions } from '../llm/model-caller.js';
import { redactAnswer } from '../llm/redact-answer.js';
import type { ModelRequest, ModelResponse, Provider, Usage } from '../providers/provider.js';
import { ProviderError } from '../providers/provider-error.js';
import { addUsage } from '../providers/usage.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { EventMap } from '../telemetry/events.js';
import type { Redaction } from '../telemetry/redaction.js';
import { abortError } from './abort.js';
import type { GateRegistry } from './gate-registry.js';
import type { GateCallOptions } from './provider-gate.js';
import type { RetryOptions } from './retry.js';

// The signature the LLM call loop calls (src/llm/model-caller.ts); re-exported for the engine.
export type { CallOptions as ModelCallOptions, ModelCaller } from '../llm/model-caller.js';

/** What one call did, for the step's journal record and the run's totals. */
export interface CallStats {
  key: string;
  provider: string;
  model: string;
  /** Requests that reached the provider (0 for a cache hit or a replay). */
  attempts: number;
  retries: number;
  cached: boolean;
  replayed: boolean;
  usage: Usage;
  /**
   * What this call cost, its failed but billed attempts included; 0 when answered from cache or
   * cassette; null when the model is unpriced.
   */
  costUsd: number | null;
  /** What a cache hit saved: the recorded cost of the original call. */
  costSavedUsd: number;
  durationMs: number;
  error?: Error;
  /**
   * A cache hit on an answer this step (or batch item) paid for in an execution of the run that
   * crashed before journaling it: no request now, but its cost (`costUsd`, `usage`) is the step's,
   * and the budget's at once (RunBudget.countRecovered). Or, not `cached`, the bill of a call of
   * such an execution whose answer no record keeps (CallRecord.bills: a rejected answer, a failed
   * call), found under the key of the call being made: told before it, as a call of its own.
   */
  recovered?: boolean;
  /** Of a recovered call: the execution that paid for it (the end of its `paidBy`). */
  paidIn?: string;
}

/**
 * The payer of a step's calls in one execution of a run (CallRecord.paidBy); `step` is a batch
 * item's own key for its calls (`each[3]`), and `execution` may carry a mark after it (batch-payers.ts).
 */
export function payerOf(runId: string, step: string, execution: string): string {
  return `${runId}\n${step}\n${execution}`;
}

export interface ModelCallerDeps {
  resolveProvider(name: string): Provider;
  /** The type of a provider name (`openai` for a `fast` declared so), for the events; undefined if unknown. */
  providerType?(name: string): string | undefined;
  gates: GateRegistry;
  cache?: CallCache;
  cassette?: { replay?: CassettePlayer; record?: CassetteRecorder };
  budget?: RunBudget;
  bus: EventBus;
  runId: string;
  step: string;
  retry?: RetryOptions;
  /** Attempt timeout wanted by the step; the provider's timeout caps it when the pipeline declares one. */
  timeoutMs?: number;
  /** When the caller's signal fires on the step's own timeout (performance.now() ms). */
  deadline?: number;
  /** `cache:` of the step: a TTL in ms, or false to neither read nor write the cache. */
  ttlMs?: number | false;
  price: PriceFn;
  onCallFinished?: (stats: CallStats) => void;
  /**
   * Who pays for this caller's calls (`payerOf`): written with each answer it puts in the cache. A
   * hit on an answer the same step (or batch item) paid for in another execution of the run (one
   * that crashed before journaling it) is no saving: it was paid, and counts as paid (`recovered`)
   * — unless `billedAlready` says the step's (the item's) earlier journaled record carries that
   * execution's bill. `billedAlready` is told the caller's `step` too: one function serves every
   * item of a batch (no closure per item).
   */
  payer?: string;
  billedAlready?: (execution: string, step: string) => Promise<boolean>;
  /**
   * Told when a streamed attempt that had sent text is given up for a retry: the text streamed so
   * far is void (the engine emits `pipeline.step.chunk` with `reset: true`). The text of this
   * caller's earlier calls (a tool loop's turns) is then streamed again, and the retry's after it,
   * so that what a consumer shows after a reset is exactly the answer. Without it, chunks of every
   * attempt simply follow each other.
   */
  onStreamReset?: () => void;
  /**
   * The secrets no answer may carry on (the engine's, built once from its env): each answer from a
   * provider or a cassette is redacted with it, and each streamed chunk. Without it, answers pass as
   * they came (a caller with no environment to protect).
   */
  redaction?: Redaction;
}

const NO_USAGE: Usage = { inputTokens: 0, outputTokens: 0 };

export function createModelCaller(deps: ModelCallerDeps): ModelCaller {
  const { bus, runId, step } = deps;
  const ttlMs = deps.ttlMs ?? DEFAULT_CACHE_TTL_MS;

  // Built once per caller, not per call: object spreads and closures on the hot path are measurable.
  const retry = deps.retry;
  const payer = deps.payer;
  // Where the payer's execution starts (after `run\nstep\n`): a number, not a string — a batch
  // makes a caller per item, and a hit on an answer paid by anyone else compares without cutting.
  const executionAt = payer === undefined ? 0 : payer.lastIndexOf('\n') + 1;
  /**
   * Whether `paidBy` is this step in another execution (checked at once: most hits are not), whose
   * bill no journaled record carries (asked only then).
   */
  const paidInAnotherExecution = (paidBy: string | undefined): boolean | Promise<boolean> => {
    if (payer === undefined || paidBy === undefined || paidBy === payer) return false;
    if (paidBy.lastIndexOf('\n') + 1 !== executionAt || !samePrefix(paidBy, payer, executionAt)) return false;
    const billed = deps.billedAlready?.(paidBy.slice(executionAt), step);
    return billed === undefined ? true : billed.then((already) => !already);
  };
  /**
   * Tells `recover` each of the bills found under a call's key (CallRecord.bills) that this step
   * paid in another execution and no journaled record carries — in order, each once per lookup.
   */
  const recoverBills = async (
    bills: readonly CallBill[],
    recover: (bill: CallBill, execution: string) => void,
  ): Promise<void> => {
    if (payer === undefined) return;
    for (const bill of bills) {
      const another = paidInAnotherExecution(bill.paidBy);
      if (another === false || (another !== true && !(await another))) continue;
      recover(bill, bill.paidBy.slice(executionAt));
    }
  };
  /**
   * Keeps the bill of a paid call whose answer the cache will not keep, under its key (CallCache.
   * putBill): a crash before the step is journaled must not lose what it cost. Durable before the
   * call returns; a bill that cannot be written is a warning, as a cache put that fails is.
   */
  const keepBill = async (
    call: Parameters<CallCache['putBill']>[0],
    usage: Usage,
    costUsd: number | null,
    seen: CallBill[] | undefined,
  ): Promise<void> => {
    if (payer === undefined || !deps.cache) return;
    try {
      await deps.cache.putBill(call, { paidBy: payer, usage, costUsd }, seen);
    } catch (error) {
      process.emitWarning(`call cache: bill not recorded (${(error as Error).message})`);
    }
  };
  const timeoutMs = deps.timeoutMs;
  const deadline = deps.deadline;
  const onStreamReset = deps.onStreamReset;
  const redaction = deps.redaction;
  // What this caller's finished calls streamed, to stream again after a reset (only with onStreamReset).
  let streamed = '';

  return async (request, opts) => {
    const started = performance.now();
    const { provider, model } = request;
    // Resolved first: who answers is part of the key. A provider that cannot be made (no key) has
    // no record to be answered from either: it fails below, where every failed call does.
    let target: Provider | undefined;
    let unresolved: unknown;
    try {
      target = deps.resolveProvider(provider);
    } catch (error) {
      unresolved = error;
    }
    const key = callKey(request, target?.endpoint);
    // The events of its attempts say it where it is not the name itself (a built-in's name is its
    // type): spans name the vendor by it, and the journal keeps every event, so no bytes for nothing.
    const type = deps.providerType?.(provider);
    const providerType = type === provider ? undefined : type;
    let attempts = 0;
    let retries = 0;
    const stats = (outcome: Pick<CallStats, 'usage' | 'costUsd' | 'costSavedUsd'> & Partial<CallStats>): CallStats => ({
      key,
      provider,
      model,
      attempts,
      retries,
      cached: false,
      replayed: false,
      durationMs: Math.round(performance.now() - started),
      ...outcome,
    });
    // `answered`: the model the answer names (ModelResponse.model), when there is an answer.
    const finish = (done: CallStats, answered?: string): void => {
      const response: EventMap['pipeline.provider.response'] = {
        runId,
        step,
        provider,
        model,
        durationMs: done.durationMs,
        usage: done.usage,
        costUsd: done.costUsd,
        cached: done.cached || done.replayed,
      };
      if (providerType !== undefined) response.providerType = providerType;
      if (answered !== undefined && answered !== model) response.responseModel = answered;
      if (done.error) {
        response.error = done.error.message;
        response.errorKind = done.error instanceof ProviderError ? done.error.kind : done.error.name;
      }
      bus.emit('pipeline.provider.response', response);
      deps.onCallFinished?.(done);
    };
    // An answer that did not come from the provider still reaches a streaming consumer, in one piece.
    const deliver = (response: ModelResponse): ModelResponse => {
      if (opts.stream && response.text && opts.onChunk) {
        opts.onChunk(response.text);
        if (onStreamReset) streamed += response.text;
      }
      return response;
    };

    const replay = deps.cassette?.replay;
    if (replay) {
      // With the request: a miss says what changed since the recording (only read on a miss).
      const entry = replay.answer(key, { step, provider, model, request });
      // A cassette stands in for the provider, and may have been recorded before answers were redacted.
      const response = redaction ? redactAnswer(entry.response, redaction.redact) : entry.response;
      deps.cassette?.record?.record({ ...entry, response, step });
      finish(stats({ replayed: true, usage: response.usage, costUsd: 0, costSavedUsd: 0 }), response.model);
      return deliver(response);
    }

    // The bills the lookup found under the key: what a rejected answer's own bill is added to.
    let seen: CallBill[] | undefined;
    if (deps.cache && ttlMs !== false && target) {
      // A cache that cannot be read (the journal's database gone for a moment) is a miss: it is an
      // optimisation, and must not fail a call the provider can answer — no more than a cache that
      // cannot write (below).
      const hit = deps.cache.certainMiss(key)
        ? undefined
        : await deps.cache.lookup(key, ttlMs).catch((error: unknown) => {
            process.emitWarning(`call cache: not read (${(error as Error).message})`);
            return undefined;
          });
      if (hit?.bills !== undefined) {
        seen = hit.bills;
        // Calls of a crashed execution of this step whose answers were not kept (rejected, or none):
        // paid, so counted as a paid hit is — in the budget at once, and as calls of the step — and
        // never an answer: this call goes on (to a hit below, or to the provider). No event: no
        // request now, and none is answered.
        await recoverBills(hit.bills, (bill, execution) => {
          deps.budget?.countRecovered?.(bill.usage, bill.costUsd);
          deps.onCallFinished?.(
            stats({ recovered: true, paidIn: execution, usage: bill.usage, costUsd: bill.costUsd, costSavedUsd: 0 }),
          );
        });
      }
      if (hit && !('billsOnly' in hit)) {
        // A record may hold a secret: written before answers were redacted, or by a process whose
        // environment held other secrets (another worker sharing the journal). One scan when clean.
        const cached = hit.response as ModelResponse;
        const response = redaction ? redactAnswer(cached, redaction.redact) : cached;
        const another = paidInAnotherExecution(hit.paidBy);
        // Paid for by this step in an execution that crashed before journaling it: paid, not saved.
        const recovered = another === false ? false : await another;
        const costSavedUsd = recovered ? 0 : (hit.costUsd ?? 0);
        if (!recovered) bus.emit('pipeline.cache.hit', { runId, step, provider, model, costSavedUsd });
        else {
          // This execution's budget was opened from the journal, which has no record of that bill
          // yet: the calls after this one must see it. (The step's record journals it, and the next
          // execution's budget reads it from there: a finished step is not run again, and a failed
          // record that carries it makes the same hit billedAlready — never counted twice.)
          deps.budget?.countRecovered?.(response.usage, hit.costUsd);
        }
        deps.cassette?.record?.record({ key, step, provider, model, request, response, costUsd: hit.costUsd });
        finish(
          recovered
            ? stats({
                cached: true,
                recovered: true,
                paidIn: (hit.paidBy as string).slice(executionAt),
                usage: response.usage,
                costUsd: hit.costUsd,
                costSavedUsd,
              })
            : stats({ cached: true, usage: response.usage, costUsd: 0, costSavedUsd }),
          response.model,
        );
        return deliver(response);
      }
    }

    // The in-memory budget answers at once: no await on the local path; the cluster's asks Redis.
    // Priced as the call's cost will be (the pipeline's `prices:` and provider `type:`), or a
    // provider priced only by a pipeline would pass every budget as free.
    // With the call's signal: refused only for calls in flight, it waits for them (BudgetGuard).
    const reserving = deps.budget?.reserve(request, step, deps.price, opts.signal);
    let reservation = reserving instanceof Promise ? await reserving : reserving;
    const gate = deps.gates.gate(provider);
    // Attempts that failed after the vendor had answered and billed them (an unusable answer: the
    // error carries the usage it reported): their usage and cost, priced one by one like answers.
    let billed: Usage | undefined;
    let billedCost: number | null = 0;
    // Of those, the ones not yet committed to the budget (see `reserveAgain`).
    let owed: Usage | undefined;
    let owedCost: number | null = 0;
    const billedFor = (error: unknown): never => {
      if (error instanceof ProviderError && error.usage) {
        const cost = deps.price(provider, model, error.usage);
        billedCost = billed ? addCallCost(billedCost, cost) : cost;
        billed = billed ? addUsage(billed, error.usage) : error.usage;
        owedCost = owed ? addCallCost(owedCost, cost) : cost;
        owed = owed ? addUsage(owed, error.usage) : error.usage;
      }
      throw error;
    };
    // A retry after a billed attempt is another paid request: what that attempt cost is committed,
    // and the next one is reserved anew — refused (BudgetExceededError, not retried) when the budget
    // cannot take it. One reservation for every attempt would let a call pay its attempts past it.
    // The cluster's ledger answers over the network: the attempt that asked may be given up (its
    // timeout, the run stopped) before the reservation lands. `landing` is that answer still on its
    // way — the next attempt waits for it rather than call unreserved — and `ended`, once the call
    // has ended, makes a reservation landing after it be released, not held (and renewed) for ever.
    let landing: Promise<void> | undefined;
    let ended = false;
    const reserveAgain = async (): Promise<void> => {
      if (!reservation || !owed) return;
      deps.budget?.commit(reservation, owed, owedCost);
      reservation = undefined;
      owed = undefined;
      owedCost = 0;
      const again = deps.budget?.reserve(request, step, deps.price);
      if (!(again instanceof Promise)) {
        reservation = again;
        return;
      }
      // A refusal stays in `landing`: a later attempt is refused with it too.
      landing = again.then((landed) => {
        landing = undefined;
        if (ended) deps.budget?.release(landed);
        else reservation = landed;
      });
      landing.catch(() => {}); // awaited by the attempt that asked, which may have been given up
      return landing;
    };
    // The text the current attempt has streamed (only tracked when a reset can be told).
    let attemptText = '';
    const callOpts: ModelCallOptions =
      opts.stream && opts.onChunk && onStreamReset
        ? { ...opts, onChunk: trackChunks(opts.onChunk, (text) => (attemptText += text)) }
        : opts;
    let response: ModelResponse;
    try {
      if (!target) throw unresolved;
      const answerer = target;
      // Once per call, on its first attempt that asks (a retry re-scans no prompt).
      let estimate: number | undefined;
      const gateOptions: GateCallOptions<ModelResponse> = {
        signal: opts.signal,
        estimateTokens: () => (estimate ??= estimatedTokens(request)),
        usedTokens,
        onAttempt: (attempt) => {
          attempts = attempt;
          const requested: EventMap['pipeline.provider.request'] = { runId, step, provider, model, attempt };
          if (providerType !== undefined) requested.providerType = providerType;
          bus.emit('pipeline.provider.request', requested);
        },
        onRetry: ({ attempt, delayMs, error }) => {
          retries++;
          bus.emit('pipeline.provider.retry', { runId, step, provider, attempt, delayMs, reason: error.message });
          // The attempt given up had streamed part of an answer: void, the retry streams it anew.
          if (attemptText !== '' && onStreamReset) {
            attemptText = '';
            onStreamReset();
            if (streamed !== '') opts.onChunk?.(streamed);
          }
        },
      };
      if (retry) gateOptions.retry = retry;
      if (timeoutMs !== undefined) gateOptions.timeoutMs = timeoutMs;
      if (deadline !== undefined) gateOptions.deadline = deadline;
      response = await gate.execute((signal) => {
        const ready = owed && reservation ? reserveAgain() : landing;
        return (
          ready
            ? // Given up while it waited for its reservation: no request (a provider that ignored the
              // aborted signal would be paid for an attempt nobody reads).
              ready.then(() =>
                signal.aborted
                  ? Promise.reject(abortError(provider, signal))
                  : callProvider(answerer, request, signal, callOpts, redaction),
              )
            : callProvider(answerer, request, signal, callOpts, redaction)
        ).catch(billedFor);
      }, gateOptions);
      ended = true;
    } catch (error) {
      ended = true;
      // Billed attempts are spent: committed to the budget (what was really used), else released.
      if (reservation) {
        if (owed) deps.budget?.commit(reservation, owed, owedCost);
        else deps.budget?.release(reservation);
      }
      const failure = error instanceof Error ? error : new Error(String(error));
      // What its attempts were billed is kept, as a rejected answer's bill is (below).
      if (billed && ttlMs !== false)
        await keepBill({ key, provider, model, request, response: null }, billed, billedCost, seen);
      finish(
        stats(
          billed
            ? { usage: billed, costUsd: billedCost, costSavedUsd: 0, error: failure }
            : { usage: NO_USAGE, costUsd: 0, costSavedUsd: 0, error: failure },
        ),
      );
      throw error;
    }
    // The one point where a provider's answer enters the engine: redacted here, before anything reads
    // it — the call loop's validation and repairs, the cache, the cassette, the step's output and
    // the journal, later steps' templates — so that what is kept is exactly what is used, and no
    // secret an answer carries (an agent that printed a `.env`, a vendor echoing the key) is kept.
    if (redaction) response = redactAnswer(response, redaction.redact);
    streamed += attemptText;

    // The answer's own cost (what a cache hit of it saves), and the call's: billed attempts included.
    const answerCost = response.costUsd ?? deps.price(provider, model, response.usage);
    const usage = billed ? addUsage(billed, response.usage) : response.usage;
    const costUsd = billed ? addCallCost(billedCost, answerCost) : answerCost;
    // The reservation holds the answer and the billed attempts not committed already.
    if (reservation) {
      deps.budget?.commit(
        reservation,
        owed ? addUsage(owed, response.usage) : response.usage,
        owed ? addCallCost(owedCost, answerCost) : answerCost,
      );
    }
    // An answer the caller rejects is not cached (CallOptions.reusable) — its bill is kept instead,
    // for billing only (keepBill: what the call cost); the cassette keeps it below: a replay must go
    // through the same rejections and repairs as the recording.
    if (deps.cache && ttlMs !== false) {
      if (opts.reusable?.(response) !== false) {
        // A cache that cannot write must not turn a paid, good answer into a failure (and a second bill).
        try {
          const put = deps.cache.put(
            {
              key,
              provider,
              model,
              request,
              response,
              usage: response.usage,
              costUsd: answerCost,
              paidBy: payer,
              bills: seen,
            },
            ttlMs,
          );
          // Awaited only when it writes a batch: most records wait for the next write behind.
          if (put instanceof Promise) await put.catch(warnNotRecorded);
        } catch (error) {
          warnNotRecorded(error);
        }
      } else await keepBill({ key, provider, model, request, response }, usage, costUsd, seen);
    }
    deps.cassette?.record?.record({ key, step, provider, model, request, response, costUsd: answerCost });
    finish(stats({ usage, costUsd, costSavedUsd: 0 }), response.model);
    return response;
  };
}

/** A cache that cannot write is a warning, not the call's failure (see the cache put). */
function warnNotRecorded(error: unknown): void {
  process.emitWarning(`call cache: not recorded (${(error as Error).message})`);
}

/** Whether `a` and `b` begin with the same `length` characters (no substring made). */
function samePrefix(a: string, b: string, length: number): boolean {
  for (let i = 0; i < length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** Two costs of one call's attempts: null (unpriced) only when neither is known. */
function addCallCost(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a + b;
}

function trackChunks(onChunk: (text: string) => void, track: (text: string) => void): (text: string) => void {
  return (text) => {
    track(text);
    onChunk(text);
  };
}

const usedTokens = (answer: ModelResponse): number => answer.usage.inputTokens + answer.usage.outputTokens;

function estimatedTokens(request: ModelRequest): number {
  const estimate = estimateUsage(request);
  return estimate.inputTokens + estimate.outputTokens;
}

function callProvider(
  provider: Provider,
  request: ModelRequest,
  signal: AbortSignal,
  opts: ModelCallOptions,
  redaction: Redaction | undefined,
): Promise<ModelResponse> {
  // No async frame of its own for the usual, non-streaming call (one fewer kept alive per call in flight).
  if (!opts.stream) return provider.generate(request, signal);
  return streamProvider(provider, request, signal, opts, redaction);
}

async function streamProvider(
  provider: Provider,
  request: ModelRequest,
  signal: AbortSignal,
  opts: ModelCallOptions,
  redaction: Redaction | undefined,
): Promise<ModelResponse> {
  // The chunks are the answer too (events, the journal, the terminal): redacted as they stream, each
  // attempt apart — a failed attempt's held-back end is dropped with the rest of it.
  const onChunk = opts.onChunk;
  const chunks = onChunk && redaction ? redaction.stream(onChunk) : undefined;
  for await (const chunk of provider.stream(request, signal)) {
    if (chunk.type !== 'text') {
      chunks?.end();
      return chunk.response;
    }
    if (chunks) chunks.push(chunk.text);
    else onChunk?.(chunk.text);
  }
  // The Provider contract says a cut-off stream throws; this guards a provider that forgets.
  throw new ProviderError(provider.name, 'connection', 'the stream ended without a final response');
}
