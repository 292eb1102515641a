// The ModelCaller a step uses: the run's providers behind the shared gates, cache and budget.
import { withOutputCap } from '../budget/estimate.js';
import type { Cache, Retry } from '../config/schema.js';
import { resolveCacheTtl } from '../journal/call-cache.js';
import { priceCall } from '../pricing/index.js';
import { providerType } from '../providers/settings.js';
import { type CallStats, createModelCaller, type ModelCaller, payerOf } from '../resilience/model-caller.js';
import { resolveRetryOptions } from '../resilience/retry.js';
import type { RunContext } from './run-context.js';
import { isFinished } from './run-or-reuse.js';
import { addUsage, NO_USAGE } from './step-handler.js';

/** What the calls of one step added up to; kept in the step's journal record. */
export class CallTally {
  calls = 0;
  attempts = 0;
  retries = 0;
  cacheHits = 0;
  costSavedUsd = 0;
  usage = NO_USAGE;
  /** What the priced calls cost: the known part of the step's cost. */
  knownCostUsd = 0;
  /** Paid calls whose price is unknown (a model missing from the price table and from `prices:`). */
  unpricedCalls = 0;
  private pricedCalls = 0;
  provider?: string;
  model?: string;
  /**
   * The executions whose calls this one counted as its own (recovered: paid there, crashed before
   * any record carried them): a failed record of the step lists them (step-runner.ts).
   */
  recoveredFrom?: string[];

  /**
   * The step's cost: what its priced calls cost, never forgotten because another call of the step
   * had no price (`unpricedCalls` — `unpriced_calls` in the details — says that part is missing);
   * null when no call was priced at all (an unknown cost, never a misleading $0).
   */
  get costUsd(): number | null {
    return this.unpricedCalls > 0 && this.pricedCalls === 0 ? null : this.knownCostUsd;
  }

  add(stats: CallStats): void {
    this.calls++;
    this.attempts += stats.attempts;
    this.retries += stats.retries;
    // A cache hit or a replay spent nothing: its tokens were paid for by the call it repeats — unless
    // that call is this step's own, paid in an execution that crashed before the step was journaled.
    const free = (stats.cached || stats.replayed) && !stats.recovered;
    if (free) this.cacheHits++;
    else if (stats.paidIn !== undefined) {
      this.recoveredFrom ??= [];
      if (!this.recoveredFrom.includes(stats.paidIn)) this.recoveredFrom.push(stats.paidIn);
    }
    this.costSavedUsd += stats.costSavedUsd;
    if (free) return;
    // A failed call spent what the vendor billed its attempts for (answers that came back unusable),
    // else nothing.
    if (stats.error && stats.usage.inputTokens + stats.usage.outputTokens === 0 && !stats.costUsd) return;
    this.usage = addUsage(this.usage, stats.usage);
    if (stats.costUsd === null) this.unpricedCalls++;
    else {
      this.pricedCalls++;
      this.knownCostUsd += stats.costUsd;
    }
    this.provider = stats.provider;
    this.model = stats.model;
  }

  details(): Record<string, unknown> {
    return {
      provider: this.provider,
      model: this.model,
      calls: this.calls,
      retries: this.retries,
      cache_hits: this.cacheHits,
      cost_saved_usd: this.costSavedUsd,
      ...(this.unpricedCalls > 0 ? { unpriced_calls: this.unpricedCalls } : {}),
    };
  }
}

export function modelCallerFor(
  run: RunContext,
  key: string,
  policy: {
    retry?: Retry;
    cache?: Cache;
    timeoutMs?: number;
    deadline?: number | undefined;
    /**
     * The calls of a step: paid for by the step (see `payer`). Else those of a batch item, paid for
     * by the item when its batch runs here (batch-payers.ts), or a step's mocked claude_code session.
     */
    asStep?: boolean;
  },
  tally: CallTally,
): ModelCaller {
  const { services, options } = run;
  const itemPayers = policy.asStep ? undefined : run.itemPayers;
  const itemPayer = itemPayers?.payerOf(key);
  const call = createModelCaller({
    resolveProvider: (name) => services.providerFor(run, name),
    providerType: (name) => typeOfCalled(run, name),
    gates: services.gates.forPipeline(run.pipeline.providers),
    ...(services.cache ? { cache: services.cache } : {}),
    cassette: {
      ...(options.replay ? { replay: options.replay } : {}),
      ...(options.record ? { record: options.record } : {}),
    },
    ...(run.budget ? { budget: run.budget } : {}),
    bus: services.bus,
    runId: run.id,
    step: key,
    retry: resolveRetryOptions(policy.retry, run.defaults.retry),
    ...(policy.timeoutMs === undefined ? {} : { timeoutMs: policy.timeoutMs }),
    ...(policy.deadline === undefined ? {} : { deadline: policy.deadline }),
    ttlMs: resolveCacheTtl(policy.cache, run.defaults.cache),
    price: (provider, model, usage) => {
      const config = run.pipeline.providers?.[provider];
      return priceCall(config?.type ?? provider, model, usage, config?.prices);
    },
    onCallFinished: (stats) => tally.add(stats),
    redaction: services.redaction,
    ...(policy.asStep
      ? { payer: payerOf(run.id, key, run.execution), billedAlready: (e) => billedAlready(run, key, e) }
      : itemPayer === undefined
        ? {}
        : { payer: itemPayer, billedAlready: itemPayers?.billedAlready }),
    // A streamed attempt given up for a retry: consumers discard the step's text (events.ts).
    onStreamReset: () => services.bus.emit('pipeline.step.chunk', { runId: run.id, step: key, text: '', reset: true }),
  });
  // Under a budget, a call is admitted for its worst case, which assumes an output cap: the request
  // must carry that cap, or OpenAI and Gemini send none and one answer can cost many times what
  // was reserved. A call that names no cap (no max_tokens) is sent — and keyed for the cache and
  // cassettes — with the one the estimate assumed.
  return run.budget ? (request, opts) => call(withOutputCap(request), opts) : call;
}

/**
 * The type of the provider a call to `name` reaches (a mocked run's calls name `mock` already): its
 * declaration's `type:`, else the built-in of that name. Undefined for a name neither declared nor
 * built in (the call fails where the provider is made).
 */
function typeOfCalled(run: RunContext, name: string): string | undefined {
  try {
    return providerType(name, run.pipeline.providers?.[name]);
  } catch {
    return undefined;
  }
}

/**
 * Whether the step's earlier journaled record — a failed execution's, whose bill this one carries on
 * (step-runner.ts) — covers what `execution` paid. A record written before executions were kept
 * covers every earlier one.
 */
async function billedAlready(run: RunContext, key: string, execution: string): Promise<boolean> {
  if (await run.forgotSteps()) return true;
  const earlier = run.records.get(key);
  if (earlier === undefined || isFinished(earlier)) return false;
  const executions = earlier.details?.executions;
  return !Array.isArray(executions) || executions.includes(execution);
}
