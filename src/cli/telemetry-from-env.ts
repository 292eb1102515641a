// The logs and traces of a long-lived command whose runs run in its own process (`worker`), set up
// from the environment as `serve` sets up its own: JSON lines on stderr at ELEXIRION_LOG_LEVEL
// (default info), and spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set — none otherwise, at no cost.
import { createLogger, type Logger, routeProcessOutput } from '../telemetry/logger.js';
import { createTracingFromEnv, type Tracing } from '../telemetry/tracing.js';
import type { CliContext } from './context.js';

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
