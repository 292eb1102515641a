// OpenTelemetry traces, fed by the event bus: a span per run, a child span per step, and a
// grandchild per provider call, named and attributed after the GenAI semantic conventions.
// Spans carry the instants of the events themselves (`at`), so a slow subscriber never skews them.
import { type Context, context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { EventBus } from './event-bus.js';
import { ELEXIRION, GEN_AI } from './genai-attributes.js';
import { otlpTracesUrl } from './otlp-traces-url.js';
import { createRedactor, type Redactor } from './redact.js';

export interface Tracing {
  provider: BasicTracerProvider;
  tracer: Tracer;
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * A tracer provider exporting over OTLP/HTTP, or undefined when OTEL_EXPORTER_OTLP_ENDPOINT
 * (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is not set: tracing costs nothing unless asked for.
 */
export function createTracingFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  version = '0.0.0',
): Tracing | undefined {
  const tracesUrl = otlpTracesUrl(env);
  if (!tracesUrl) return undefined;
  return createTracing([new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))], {
    serviceName: env.OTEL_SERVICE_NAME ?? 'elexirion',
    version,
  });
}

/** A tracer provider over the given processors (tests pass a SimpleSpanProcessor with an in-memory exporter). */
export function createTracing(
  spanProcessors: SpanProcessor[],
  options: { serviceName?: string; version?: string } = {},
): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName ?? 'elexirion',
      [ATTR_SERVICE_VERSION]: options.version ?? '0.0.0',
    }),
    spanProcessors,
  });
  return { provider, tracer: provider.getTracer('elexirion'), shutdown: () => provider.shutdown() };
}

export interface TracingOptions {
  /**
   * Applied to the error messages spans carry (they leave the process, to a collector): the last
   * line of defence, as for log lines. Default: the redactor of process.env.
   */
  redact?: Redactor;
}

/** The status message of the spans a crashed attempt of a run left open. */
export const CRASHED = 'crashed; restarted from the journal';
/** The status message of a call span whose run stopped before the call's answer came. */
export const UNANSWERED = 'no answer: the run stopped during the call';
/** The status message of a step span whose run stopped (cancelled, interrupted) before the step ended. */
export const CUT_SHORT = 'not finished: the run stopped before the step ended';

interface OpenStep {
  runId: string;
  key: string;
  type: string;
  span: Span;
}

/** Turns the bus's events into spans; returns the unsubscribe function. */
export function attachTracing(bus: EventBus, tracer: Tracer, options: TracingOptions = {}): () => void {
  const redact = options.redact ?? createRedactor();
  const runs = new Map<string, Span>();
  // In the order they started: an enclosing step is always before the steps it holds.
  const steps = new Map<string, OpenStep>();
  // Provider calls of a step, oldest first (a step with fallbacks may call several in turn).
  const calls = new Map<string, { model: string; span: Span }[]>();
  const stepKey = (runId: string, step: string) => `${runId}\u0000${step}`;
  const within = (parent: Span | undefined): Context =>
    parent ? trace.setSpan(context.active(), parent) : context.active();
  const failed = (span: Span, error: string | undefined): void => {
    span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: redact(error) } : {}) });
  };

  /** Ends, failed with `why`, the call spans of a run still waiting for their answer. */
  const endCalls = (runId: string, why: string, at: number): void => {
    const ofRun = stepKey(runId, '');
    for (const [key, open] of calls) {
      if (!key.startsWith(ofRun)) continue;
      for (const call of open) {
        failed(call.span, why);
        call.span.end(at);
      }
      calls.delete(key);
    }
  };

  /**
   * Ends what an attempt of a run left open when it crashed (a journal write failed, say): the
   * supervisor restarts the run from the journal without ending the attempt, so its steps and calls
   * never stop. Left open, their spans would never be exported nor freed, and the calls' spans
   * already exported would name parents no collector ever receives. Innermost first: calls, then
   * steps latest first (the map is in start order), then the attempt's root.
   */
  const endCrashed = (runId: string, root: Span, at: number): void => {
    endCalls(runId, CRASHED, at);
    for (const [key, step] of [...steps].reverse()) {
      if (step.runId !== runId) continue;
      step.span.setAttribute(ELEXIRION.status, 'crashed');
      failed(step.span, CRASHED);
      step.span.end(at);
      steps.delete(key);
    }
    root.setAttribute(ELEXIRION.status, 'crashed');
    failed(root, CRASHED);
    root.end(at);
  };

  /**
   * The span that holds step (or batch item) `key` of a run: its batch for an item (`items[3]`),
   * else the outermost `parallel` group open in its pipeline (steps of one pipeline run one after
   * another, so whatever starts while a group is open belongs to it — the outermost is always an
   * ancestor, when groups nest), else its `pipeline` step (`outer/inner`), else the run.
   */
  const parentOf = (runId: string, key: string): Span | undefined => {
    const item = /^(.*)\[\d+\]$/.exec(key);
    const batch = item ? steps.get(stepKey(runId, item[1] as string)) : undefined;
    if (batch) return batch.span;
    const slash = key.lastIndexOf('/');
    const scope = key.slice(0, slash + 1);
    for (const open of steps.values()) {
      if (open.runId !== runId || open.type !== 'parallel' || open.key === key) continue;
      if (open.key.slice(0, open.key.lastIndexOf('/') + 1) === scope) return open.span;
    }
    const outer = slash > 0 ? steps.get(stepKey(runId, key.slice(0, slash))) : undefined;
    return outer?.span ?? runs.get(runId);
  };

  const offs = [
    bus.on('pipeline.execution.start', (e, at) => {
      // A run that starts again while its span is open is being restarted after a crash: its
      // previous attempt never stopped. That attempt ends here; the new root links to it, so that a
      // collector can join the two traces of the run.
      const crashed = runs.get(e.runId);
      if (crashed) endCrashed(e.runId, crashed, at);
      const span = tracer.startSpan(
        `pipeline ${e.pipeline}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: at,
          attributes: { [ELEXIRION.runId]: e.runId, [ELEXIRION.pipeline]: e.pipeline, [ELEXIRION.resumed]: e.resumed },
          ...(crashed ? { links: [{ context: crashed.spanContext() }] } : {}),
        },
        context.active(),
      );
      runs.set(e.runId, span);
    }),
    bus.on('pipeline.execution.stop', (e, at) => {
      const span = runs.get(e.runId);
      if (!span) return;
      runs.delete(e.runId);
      // Calls whose answer never came (the run stopped, cancelled or interrupted, mid-call) end
      // with it, failed: left open, they would never be exported nor freed.
      endCalls(e.runId, `${UNANSWERED} (run ${e.status})`, at);
      // Steps cut short by the run's end (cancelled, interrupted) end with it, failed: their work
      // was not done, and a span left UNSET would read as a success (a finished step's is UNSET too)
      // to a backend that reads only the status. The run's own span is not: its stop is its outcome.
      for (const [key, step] of steps) {
        if (step.runId === e.runId) {
          step.span.setAttribute(ELEXIRION.status, e.status);
          failed(step.span, `${CUT_SHORT} (run ${e.status})`);
          step.span.end(at);
          steps.delete(key);
        }
      }
      span.setAttributes({
        [ELEXIRION.status]: e.status,
        [ELEXIRION.costUsd]: e.costUsd,
        [ELEXIRION.inputTokens]: e.inputTokens,
        [ELEXIRION.outputTokens]: e.outputTokens,
      });
      if (e.status === 'failed') failed(span, e.error);
      span.end(at);
    }),
    bus.on('pipeline.step.start', (e, at) => {
      const span = tracer.startSpan(
        `step ${e.step}`,
        {
          startTime: at,
          attributes: { [ELEXIRION.runId]: e.runId, [ELEXIRION.step]: e.step, [ELEXIRION.stepType]: e.type },
        },
        within(parentOf(e.runId, e.step)),
      );
      steps.set(stepKey(e.runId, e.step), { runId: e.runId, key: e.step, type: e.type, span });
    }),
    bus.on('pipeline.step.stop', (e, at) => {
      const key = stepKey(e.runId, e.step);
      const span = steps.get(key)?.span;
      if (!span) return; // taken from the journal on resume: it did not run, so it has no span
      steps.delete(key);
      span.setAttributes({
        [ELEXIRION.status]: e.status,
        [ELEXIRION.attempts]: e.attempts,
        [ELEXIRION.inputTokens]: e.usage.inputTokens,
        [ELEXIRION.outputTokens]: e.usage.outputTokens,
        ...(e.costUsd === null ? {} : { [ELEXIRION.costUsd]: e.costUsd }),
      });
      if (e.status === 'failed') failed(span, e.error);
      span.end(at);
    }),
    bus.on('pipeline.provider.request', (e, at) => {
      const key = stepKey(e.runId, e.step);
      const open = calls.get(key) ?? [];
      const current = open.find((c) => c.model === e.model);
      // A retry is the same call trying again: an event on its span, not a new span.
      if (current && e.attempt > 1) {
        current.span.addEvent('retry', { attempt: e.attempt }, at);
        return;
      }
      const span = tracer.startSpan(
        callName(e.model),
        {
          kind: SpanKind.CLIENT,
          startTime: at,
          attributes: {
            ...providerAttributes(e.provider, e.providerType),
            [GEN_AI.operationName]: 'chat',
            [GEN_AI.requestModel]: e.model,
            [ELEXIRION.runId]: e.runId,
            [ELEXIRION.step]: e.step,
          },
        },
        within(steps.get(key)?.span ?? parentOf(e.runId, e.step)),
      );
      calls.set(key, [...open, { model: e.model, span }]);
    }),
    bus.on('pipeline.provider.response', (e, at) => {
      const key = stepKey(e.runId, e.step);
      const open = calls.get(key) ?? [];
      // An answer that came after its run had stopped (its call span ended with the run): a span of
      // its own now would be a root whose run and step are gone — a trace of one span, misleading.
      if (open.length === 0 && !runs.has(e.runId)) return;
      let index = open.findIndex((c) => c.model === e.model);
      // An answer naming another model than was asked (a claude_code session asked for its default,
      // or an alias the vendor expands) still ends the call this step opened: only a cache hit or a
      // replay has none.
      if (index < 0 && !e.cached && open.length > 0) index = 0;
      let span: Span;
      if (index >= 0) {
        span = (open[index] as { span: Span }).span;
        open.splice(index, 1);
        if (open.length === 0) calls.delete(key);
      } else {
        // A cache hit or a replay: no request went out, the span covers the lookup.
        span = tracer.startSpan(
          callName(e.model),
          {
            kind: SpanKind.CLIENT,
            startTime: at - e.durationMs,
            attributes: {
              ...providerAttributes(e.provider, e.providerType),
              [GEN_AI.operationName]: 'chat',
              [GEN_AI.requestModel]: e.model,
              [ELEXIRION.runId]: e.runId,
              [ELEXIRION.step]: e.step,
            },
          },
          within(steps.get(key)?.span ?? parentOf(e.runId, e.step)),
        );
      }
      // A cache hit or a replay used no tokens (its usage is the original call's, which it repeats): a
      // backend adding up gen_ai.usage must not count it as spent, as the metrics and totals do not.
      span.setAttributes({
        // The model that answered: the event names it only where it is not the one asked for.
        [GEN_AI.responseModel]: e.responseModel ?? e.model,
        [GEN_AI.inputTokens]: e.cached ? 0 : e.usage.inputTokens,
        [GEN_AI.outputTokens]: e.cached ? 0 : e.usage.outputTokens,
        [ELEXIRION.cached]: e.cached,
        ...(e.costUsd === null ? {} : { [ELEXIRION.costUsd]: e.costUsd }),
      });
      if (e.error) {
        failed(span, e.error);
        // The conventions' error.type: low-cardinality, what a backend groups failures by.
        span.setAttribute(ERROR_TYPE, e.errorKind ?? '_OTHER');
      }
      span.end(at);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** OpenTelemetry's general attribute for the class of a failure (`_OTHER` when none is known). */
const ERROR_TYPE = 'error.type';

/** The GenAI convention's span name: `{operation} {model}`. */
function callName(model: string): string {
  return `chat ${model}`;
}

/**
 * The conventions' well-known value of each provider type. An `openai` type pointed at another
 * server (Ollama, vLLM, a gateway) is still `openai`: the conventions name the protocol the client
 * speaks when the actual system is unknown.
 */
const CONVENTION_NAMES: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  gemini: 'gcp.gemini',
};

/**
 * The provider, under the current attribute and the deprecated one, by the conventions' value of its
 * type (else its type, else its name: `mock`, `claude_code`); the pipeline's own name beside it.
 */
function providerAttributes(provider: string, type: string | undefined): Record<string, string> {
  // No type: the events leave it out where it is the name (a built-in's, or a mocked run's `mock`).
  const kind = type ?? provider;
  const name = CONVENTION_NAMES[kind] ?? kind;
  return { [GEN_AI.providerName]: name, [GEN_AI.system]: name, [ELEXIRION.provider]: provider };
}
