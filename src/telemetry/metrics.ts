// Prometheus metrics, fed only by the event bus (and, at scrape time, by the gates' live counters).
// One Registry per engine, never prom-client's global one: two engines in one process (tests, a
// library user) must not fight over metric names.
//
// Bounded label values. `provider` and `model` come from pipelines, and a pipeline sent inline
// over HTTP is a request body: left alone, every request could mint series for ever (a new model
// name, a new provider name of its own), and Prometheus keeps each series it ever scraped. So the
// (provider, model) pairs a registry labels are capped (`maxLabelPairs`, default 200): the first
// ones seen keep their names; past the cap a new model of a provider already labelled is reported
// as `model="other"`, and a new provider as `provider="other",model="other"` (so at most twice the
// cap, plus one, label pairs per metric). The tokens and costs are still counted (under those
// labels), so sums over a metric stay right. The provider gauges
// (breaker, bulkhead) follow the gates that exist at scrape time, which the gate registry bounds.
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import { requireOnUse } from '../require-on-use.js';
import type { GateRegistry } from '../resilience/gate-registry.js';
import type { EventBus } from './event-bus.js';

const promClient = requireOnUse<typeof PromClient>('prom-client');

export interface MetricsSource {
  bus: EventBus;
  gates: GateRegistry;
  readonly activeRuns: number;
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop); default true. */
  defaultMetrics?: boolean;
  /**
   * More buses whose provider calls and cache hits count too: a cluster worker's batch-chunk item
   * runners publish on a bus of their own (their events are not the run's event stream).
   */
  alsoFrom?: readonly EventBus[];
  /** Distinct (provider, model) label pairs before new ones are reported as `other` (default 200). */
  maxLabelPairs?: number;
}

export const DEFAULT_MAX_LABEL_PAIRS = 200;
/** The label value that stands for the providers and models past the cap. */
export const OTHER_LABEL = 'other';

export interface Metrics {
  registry: Registry;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  contentType: string;
  detach(): void;
}

/**
 * Steps run from milliseconds (a transform) to an hour (a batch of thousands of items, an agent's
 * session): past the last bucket a duration is only "more", so they reach that far.
 */
export const STEP_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/**
 * An LLM call takes from a fraction of a second (a short answer) to minutes (a long one, retries
 * after a rate limit): buckets doubling from 0.25 s to 10 min resolve both ends.
 */
export const CALL_DURATION_BUCKETS = [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600];

/** Circuit states as numbers, so that a dashboard can alert on `> 0`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export function attachMetrics(source: MetricsSource, options: MetricsOptions = {}): Metrics {
  // prom-client (CommonJS) is loaded by the first registry, not with this module: a worker imports
  // it whether or not it serves /metrics (--metrics-port), and the library never serves it.
  const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = promClient();
  const registry = new Registry();
  const labelsOf = labelBudget(options.maxLabelPairs ?? DEFAULT_MAX_LABEL_PAIRS);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const steps = new Counter({
    name: 'pipeline_steps_total',
    help: 'Steps finished, by step type and status',
    labelNames: ['step_type', 'status'],
    registers,
  });
  const stepDuration = new Histogram({
    name: 'pipeline_step_duration_seconds',
    help: 'Step duration in seconds, by step type',
    labelNames: ['step_type'],
    buckets: STEP_DURATION_BUCKETS,
    registers,
  });
  const callDuration = new Histogram({
    name: 'pipeline_provider_call_duration_seconds',
    help: 'Duration of provider calls in seconds (retries included; cache hits excluded), by provider',
    labelNames: ['provider'],
    buckets: CALL_DURATION_BUCKETS,
    registers,
  });
  const runs = new Counter({
    name: 'pipeline_runs_total',
    help: 'Runs ended, by status',
    labelNames: ['status'],
    registers,
  });
  const tokens = new Counter({
    name: 'pipeline_tokens_total',
    help: 'Tokens used by provider calls (cache hits excluded), by provider, model and direction',
    labelNames: ['provider', 'model', 'direction'],
    registers,
  });
  const cost = new Counter({
    name: 'pipeline_cost_usd_total',
    help: 'Cost of provider calls in US dollars, by provider and model',
    labelNames: ['provider', 'model'],
    registers,
  });
  // A model missing from the price table has an unknown cost, not a zero one: without this counter a
  // dashboard summing pipeline_cost_usd_total would show such calls as free.
  const unpriced = new Counter({
    name: 'pipeline_unpriced_calls_total',
    help: 'Provider calls to a model whose price is unknown (not in pipeline_cost_usd_total), by provider and model',
    labelNames: ['provider', 'model'],
    registers,
  });
  // The duration histogram counts calls but not how they ended: an error rate per provider (a vendor
  // failing, a breaker failing calls fast, a missing key) needs the outcome, in a counter of its own.
  const calls = new Counter({
    name: 'pipeline_provider_calls_total',
    help: 'Provider calls made (cache hits excluded), by provider and outcome (success or error)',
    labelNames: ['provider', 'outcome'],
    registers,
  });
  const retries = new Counter({
    name: 'pipeline_provider_retries_total',
    help: 'Attempts of provider calls retried after a failure, by provider',
    labelNames: ['provider'],
    registers,
  });
  const cacheHits = new Counter({
    name: 'pipeline_cache_hits_total',
    help: 'Provider calls answered from the call cache (or a cassette, when replaying)',
    registers,
  });
  new Gauge({
    name: 'pipeline_provider_circuit_state',
    help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'],
    registers,
    // Read from the gates when scraped, afresh: a gate the registry has let go of (an idle one, see
    // gate-registry.ts) leaves no series behind, and a gate that never changed state shows as closed.
    collect() {
      this.reset();
      // One value per provider name: the worst breaker of its gates (one per configuration).
      for (const gate of source.gates.summary())
        this.set({ provider: gate.provider }, CIRCUIT_STATE_VALUE[gate.circuit]);
    },
  });
  // Read from the gates when scraped: a gauge set from events would miss a slot freed silently.
  new Gauge({
    name: 'pipeline_provider_bulkhead_in_flight',
    help: 'Provider calls holding a concurrency slot',
    labelNames: ['provider'],
    registers,
    collect() {
      this.reset();
      for (const gate of source.gates.summary()) this.set({ provider: gate.provider }, gate.inFlight);
    },
  });
  new Gauge({
    name: 'pipeline_provider_bulkhead_queued',
    help: 'Provider calls waiting for a concurrency slot',
    labelNames: ['provider'],
    registers,
    collect() {
      this.reset();
      for (const gate of source.gates.summary()) this.set({ provider: gate.provider }, gate.queued);
    },
  });
  new Gauge({
    name: 'pipeline_active_runs',
    help: 'Runs in progress in this process',
    registers,
    collect() {
      this.set(source.activeRuns);
    },
  });

  const { bus } = source;
  const unsubscribe = [
    bus.on('pipeline.step.stop', (e) => {
      // A step taken from the journal on resume did not run again: counting it would double it.
      if (e.fromJournal) return;
      steps.inc({ step_type: e.type, status: e.status });
      stepDuration.observe({ step_type: e.type }, e.durationMs / 1000);
    }),
    bus.on('pipeline.execution.stop', (e) => runs.inc({ status: e.status })),
  ];
  // The provider calls, of the engine and of any other bus that makes calls for it.
  for (const callBus of [bus, ...(options.alsoFrom ?? [])]) {
    unsubscribe.push(
      // A retry names no model: its provider is labelled under the same cap as the pairs.
      callBus.on('pipeline.provider.retry', (e) => retries.inc({ provider: labelsOf.provider(e.provider) })),
      callBus.on('pipeline.provider.response', (e) => {
        // A call answered without the provider — from the cache, or from a cassette when replaying —
        // spent nothing; the journal counts both as cache hits (step details, run totals), and so
        // does this counter.
        if (e.cached) {
          cacheHits.inc();
          return;
        }
        const { provider, model } = labelsOf(e.provider, e.model);
        // By provider only, under the same cap: a histogram's series are its buckets times its labels.
        callDuration.observe({ provider }, e.durationMs / 1000);
        calls.inc({ provider, outcome: e.error === undefined ? 'success' : 'error' });
        tokens.inc({ provider, model, direction: 'input' }, e.usage.inputTokens);
        tokens.inc({ provider, model, direction: 'output' }, e.usage.outputTokens);
        if (e.costUsd !== null) cost.inc({ provider, model }, e.costUsd);
        else unpriced.inc({ provider, model });
      }),
    );
  }

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    detach: () => {
      for (const off of unsubscribe) off();
    },
  };
}

interface LabelBudget {
  (provider: string, model: string): { provider: string; model: string };
  /** The label of a provider alone (an event that names no model). */
  provider(provider: string): string;
}

/**
 * The labels of a (provider, model) pair: itself while fewer than `max` pairs have been labelled,
 * else `model="other"` under a provider already labelled, else both `other`. A pair once labelled
 * keeps its labels, so a series never changes name half-way. A provider seen alone first (a retry
 * before any answer) takes one place of the cap, as a pair would, so that its later series keep
 * its name.
 */
function labelBudget(max: number): LabelBudget {
  const pairs = new Map<string, Set<string>>();
  let count = 0;
  const labels = (provider: string, model: string) => {
    const models = pairs.get(provider);
    if (models?.has(model)) return { provider, model };
    if (count < max) {
      count++;
      if (models) models.add(model);
      else pairs.set(provider, new Set([model]));
      return { provider, model };
    }
    return models ? { provider, model: OTHER_LABEL } : { provider: OTHER_LABEL, model: OTHER_LABEL };
  };
  labels.provider = (provider: string): string => {
    if (pairs.has(provider)) return provider;
    if (count >= max) return OTHER_LABEL;
    count++;
    pairs.set(provider, new Set());
    return provider;
  };
  return labels;
}
