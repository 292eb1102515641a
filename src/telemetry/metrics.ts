// Prometheus metrics, fed only by the event bus (and, at scrape time, by the gates' live counters).
// One Registry per engine, never prom-client's global one: two engines in one process (tests, a
// library user) must not fight over metric names.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GateRegistry } from '../resilience/gate-registry.js';
import type { EventBus } from './event-bus.js';

export interface MetricsSource {
  bus: EventBus;
  gates: GateRegistry;
  readonly activeRuns: number;
}

export interface Metrics {
  registry: Registry;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  contentType: string;
  detach(): void;
}

/** Circuit states as numbers, so that a dashboard can alert on `> 0`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export function attachMetrics(source: MetricsSource, options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
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
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
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
  const cacheHits = new Counter({
    name: 'pipeline_cache_hits_total',
    help: 'Provider calls answered from the call cache',
    registers,
  });
  const circuit = new Gauge({
    name: 'pipeline_provider_circuit_state',
    help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'],
    registers,
    // Events keep it current between scrapes; a gate that never changed state still shows as closed.
    collect() {
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
      for (const gate of source.gates.summary()) this.set({ provider: gate.provider }, gate.inFlight);
    },
  });
  new Gauge({
    name: 'pipeline_provider_bulkhead_queued',
    help: 'Provider calls waiting for a concurrency slot',
    labelNames: ['provider'],
    registers,
    collect() {
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
    bus.on('pipeline.provider.response', (e) => {
      if (e.cached) return;
      tokens.inc({ provider: e.provider, model: e.model, direction: 'input' }, e.usage.inputTokens);
      tokens.inc({ provider: e.provider, model: e.model, direction: 'output' }, e.usage.outputTokens);
      if (e.costUsd !== null) cost.inc({ provider: e.provider, model: e.model }, e.costUsd);
      else unpriced.inc({ provider: e.provider, model: e.model });
    }),
    bus.on('pipeline.cache.hit', () => cacheHits.inc()),
    bus.on('pipeline.provider.circuit', (e) => circuit.set({ provider: e.provider }, CIRCUIT_STATE_VALUE[e.state])),
  ];

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    detach: () => {
      for (const off of unsubscribe) off();
    },
  };
}
