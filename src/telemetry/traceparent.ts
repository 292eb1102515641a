// A span's context as a W3C `traceparent` (https://www.w3.org/TR/trace-context/): the form in which
// a span crosses a process boundary — here, from a run's worker into the batch chunk jobs that other
// workers take, so that the spans they make join the run's trace. Spelled out rather than through
// the propagation API: a job's data is no header carrier, and one field is all it needs.
import { type Context, isSpanContextValid, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';

const FORM = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The context whose parent is the span `traceparent` names (in another process); undefined for
 * anything else (absent, malformed, all zeros), so that the caller starts a trace of its own.
 */
export function contextOfTraceparent(traceparent: string | undefined): Context | undefined {
  const m = traceparent === undefined ? null : FORM.exec(traceparent);
  if (!m) return undefined;
  const spanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : undefined;
}
