// The logs and traces of the commands that run runs in their own process, set up from the
// environment as `serve` sets up its own: spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set — none otherwise, at no cost — and, for `worker`, JSON
// lines on stderr at ELEXIRION_LOG_LEVEL (default info).
import { settleWithin } from '../engine/settle-within.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { createLogger, type Logger, routeProcessOutput } from '../telemetry/logger.js';
import { createRedactor } from '../telemetry/redact.js';
import { attachTracing, createTracingFromEnv, type Tracing } from '../telemetry/tracing.js';
import type { CliContext } from './context.js';

/** How long `run` waits, at its end, for its last spans to be exported. */
const FLUSH_MS = 3_000;

export interface CommandTelemetry {
  logger: Logger;
  tracing?: Tracing;
  /** Puts back what routeProcessOutput set aside (Node's warning printer, console.warn/error). */
  restoreOutput(): void;
}

export function telemetryFromEnv(ctx: Pick<CliContext, 'stderr' | 'env'>, version: string): CommandTelemetry {
  const logger = createLogger({ destination: ctx.stderr, env: ctx.env, level: ctx.env.ELEXIRION_LOG_LEVEL ?? 'info' });
  // stderr is the JSON log: Node's warnings and what libraries print there go through the logger
  // (and its redactor), not around it.
  const restoreOutput = routeProcessOutput(logger);
  const tracing = createTracingFromEnv(ctx.env, version);
  return { logger, ...(tracing ? { tracing } : {}), restoreOutput };
}

/**
 * `run` and `resume`: spans of the run over OTLP/HTTP, as serve's and worker's, when the environment
 * names a collector; no JSON log (stderr is the run's progress). Returns the function that
 * unsubscribes and flushes the spans (before the process exits), or undefined when none is asked.
 */
export function traceBusFromEnv(
  bus: EventBus,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): (() => Promise<void>) | undefined {
  const tracing = createTracingFromEnv(env, version);
  if (!tracing) return undefined;
  const detach = attachTracing(bus, tracing.tracer, { redact: createRedactor(env) });
  return async () => {
    detach();
    // Bounded, as a worker's drain: a collector that does not answer must not hold the exit, nor
    // change the run's exit code.
    await settleWithin(tracing.shutdown(), FLUSH_MS);
  };
}
