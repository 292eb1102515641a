// The spans of provider calls, after the GenAI semantic conventions: one per call (its retries are
// events on it, not spans), one covering the lookup for a cache hit or a replay. Shared by the
// run's tracing (tracing.ts: calls under their step's span) and a cluster worker's batch chunks
// (cluster/chunk-tracing.ts: item calls under their chunk's span), so both read alike in a backend.
import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { EventMap } from './events.js';
import { ELEXIRION, GEN_AI } from './genai-attributes.js';
import type { Redactor } from './redact.js';

type Request = EventMap['pipeline.provider.request'];
type Response = EventMap['pipeline.provider.response'];

interface OpenCall {
  model: string;
  span: Span;
}

/** OpenTelemetry's general attribute for the class of a failure (`_OTHER` when none is known). */
const ERROR_TYPE = 'error.type';

export class CallSpans {
  // By key (a step or a batch item of a run), oldest first: a step with fallbacks may call several
  // in turn.
  private readonly open = new Map<string, OpenCall[]>();

  constructor(
    private readonly tracer: Tracer,
    private readonly redact: Redactor,
  ) {}

  /** A request: a new span under `parent` — or, for a retry, an event on its call's span. */
  request(key: string, e: Request, at: number, parent: () => Context): void {
    const open = this.open.get(key) ?? [];
    const current = open.find((c) => c.model === e.model);
    // A retry is the same call trying again: an event on its span, not a new span.
    if (current && e.attempt > 1) {
      current.span.addEvent('retry', { attempt: e.attempt }, at);
      return;
    }
    const span = this.start(e, at, parent());
    this.open.set(key, [...open, { model: e.model, span }]);
  }

  /**
   * A response: ends its call's span. One that no open call awaits (a cache hit, a replay) gets a
   * span covering the lookup, under `parent` — none when `parent` gives none (its run has stopped).
   */
  response(key: string, e: Response, at: number, parent: () => Context | undefined): void {
    const open = this.open.get(key) ?? [];
    let index = open.findIndex((c) => c.model === e.model);
    // An answer naming another model than was asked (a claude_code session asked for its default,
    // or an alias the vendor expands) still ends the call this step opened: only a cache hit or a
    // replay has none.
    if (index < 0 && !e.cached && open.length > 0) index = 0;
    let span: Span;
    if (index >= 0) {
      span = (open[index] as OpenCall).span;
      open.splice(index, 1);
      if (open.length === 0) this.open.delete(key);
    } else {
      // An answer that came after its run had stopped (its call span ended with the run): a span of
      // its own now would be a root whose run and step are gone — a trace of one span, misleading.
      const within = parent();
      if (within === undefined) return;
      // A cache hit or a replay: no request went out, the span covers the lookup.
      span = this.start(e, at - e.durationMs, within);
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
      span.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(e.error) });
      // The conventions' error.type: low-cardinality, what a backend groups failures by.
      span.setAttribute(ERROR_TYPE, e.errorKind ?? '_OTHER');
    }
    span.end(at);
  }

  /**
   * Ends, failed with `why`, the calls still waiting for their answer under the keys `which` picks:
   * their run or chunk stopped mid-call and may never publish the answer. Left open, their spans
   * would never be exported nor freed.
   */
  endWhere(which: (key: string) => boolean, why: string, at: number): void {
    for (const [key, open] of this.open) {
      if (!which(key)) continue;
      for (const call of open) {
        call.span.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(why) });
        call.span.end(at);
      }
      this.open.delete(key);
    }
  }

  private start(e: Request | Response, startTime: number, parent: Context): Span {
    return this.tracer.startSpan(
      callName(e.model),
      {
        kind: SpanKind.CLIENT,
        startTime,
        attributes: {
          ...providerAttributes(e.provider, e.providerType),
          [GEN_AI.operationName]: 'chat',
          [GEN_AI.requestModel]: e.model,
          [ELEXIRION.runId]: e.runId,
          [ELEXIRION.step]: e.step,
        },
      },
      parent,
    );
  }
}

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
