// OpenTelemetry traces, fed by the event bus: a span per run, a child span per step, and a
// grandchild per provider call, named and attributed after the GenAI semantic conventions.
// Spans carry the instants of the events themselves (`at`), so a slow subscriber never skews them.
import { type Context, context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type { BasicTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as SemanticConventions from '@opentelemetry/semantic-conventions';
import { requireOnUse } from '../require-on-use.js';
import { CallSpans } from './call-spans.js';
import type { EventBus } from './event-bus.js';
import { ELEXIRION } from './genai-attributes.js';
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
  const { BatchSpanProcessor } = sdkTraceBase();
  const { OTLPTraceExporter } = otlpHttp();
  return createTracing([new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))], {
    serviceName: env.OTEL_SERVICE_NAME ?? 'elexirion',
    version,
  });
}

/**
 * The SDK and the OTLP exporter, loaded when a tracer provider is made — when a collector is named,
 * or a test asks — not with this module: `serve` and `worker` import it to turn events into spans,
 * and without OTEL_EXPORTER_OTLP_ENDPOINT they make no spans, so they would load the exporter and
 * the SDK (~0.1 s) for nothing. Node loads these packages' CommonJS builds however they are
 * imported (no `import` condition), so require() gets the same module instances an import would.
 */
const sdkTraceBase = requireOnUse<typeof SdkTraceBase>('@opentelemetry/sdk-trace-base');
const otlpHttp = requireOnUse<typeof OtlpHttp>('@opentelemetry/exporter-trace-otlp-http');
const resources = requireOnUse<typeof Resources>('@opentelemetry/resources');
const semanticConventions = requireOnUse<typeof SemanticConventions>('@opentelemetry/semantic-conventions');

/** A tracer provider over the given processors (tests pass a SimpleSpanProcessor with an in-memory exporter). */
export function createTracing(
  spanProcessors: SpanProcessor[],
  options: { serviceName?: string; version?: string } = {},
): Tracing {
  const { BasicTracerProvider } = sdkTraceBase();
  const { resourceFromAttributes } = resources();
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = semanticConventions();
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

/** What attachTracing returns: the unsubscribe function, which also finds the spans open now. */
export interface AttachedTracing {
  (): void;
  /**
   * The span of a step of a run, while it is open: a batch spread over a cluster hands its context
   * to its chunk jobs, so that their item calls, traced on other workers, join the run's trace.
   */
  stepSpan(runId: string, step: string): Span | undefined;
}

/** Turns the bus's events into spans; returns the unsubscribe function. */
export function attachTracing(bus: EventBus, tracer: Tracer, options: TracingOptions = {}): AttachedTracing {
  const redact = options.redact ?? createRedactor();
  const runs = new Map<string, Span>();
  // In the order they started: an enclosing step is always before the steps it holds.
  const steps = new Map<string, OpenStep>();
  // Provider calls, by step.
  const calls = new CallSpans(tracer, redact);
  const stepKey = (runId: string, step: string) => `${runId}\u0000${step}`;
  const within = (parent: Span | undefined): Context =>
    parent ? trace.setSpan(context.active(), parent) : context.active();
  const failed = (span: Span, error: string | undefined): void => {
    span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: redact(error) } : {}) });
  };

  /** Ends, failed with `why`, the call spans of a run still waiting for their answer. */
  const endCalls = (runId: string, why: string, at: number): void => {
    const ofRun = stepKey(runId, '');
    calls.endWhere((key) => key.startsWith(ofRun), why, at);
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
      calls.request(key, e, at, () => within(steps.get(key)?.span ?? parentOf(e.runId, e.step)));
    }),
    bus.on('pipeline.provider.response', (e, at) => {
      const key = stepKey(e.runId, e.step);
      // No span for an answer whose run has stopped: see CallSpans.response.
      calls.response(key, e, at, () =>
        runs.has(e.runId) ? within(steps.get(key)?.span ?? parentOf(e.runId, e.step)) : undefined,
      );
    }),
  ];
  const detach = () => {
    for (const off of offs) off();
  };
  return Object.assign(detach, { stepSpan: (runId: string, step: string) => steps.get(stepKey(runId, step))?.span });
}
