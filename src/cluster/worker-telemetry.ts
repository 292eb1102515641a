// A worker's traces and run log: in cluster mode every run runs on a worker, so unless the worker
// itself logs and traces, no process does (`serve --cluster` runs nothing). The same subscribers as
// serve's (tracing.ts, logger.ts), on the worker's buses.
import { settleWithin } from '../engine/settle-within.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { attachLogging, type Logger } from '../telemetry/logger.js';
import type { Redactor } from '../telemetry/redact.js';
import { attachTracing, type Tracing } from '../telemetry/tracing.js';

export interface WorkerTelemetryOptions {
  /** The engine's bus: the runs this worker runs. */
  runs: EventBus;
  /** Where this worker's batch chunks publish their items' calls (for any run, whichever worker holds it). */
  items: EventBus;
  logger?: Logger;
  tracing?: Tracing;
  /** Applied to the error messages spans carry (the worker's environment's secrets). */
  redact: Redactor;
  /** How long the last spans may take to be exported when the worker stops. */
  flushMs: number;
}

/** Subscribes; returns the function that unsubscribes and flushes the spans still to export. */
export function attachWorkerTelemetry(options: WorkerTelemetryOptions): () => Promise<void> {
  const { logger, tracing } = options;
  const offs: (() => void)[] = [];
  if (logger) offs.push(attachLogging(options.runs, logger), attachLogging(options.items, logger));
  // Only the runs' bus is traced: a chunk's item calls belong under their batch's step span, which
  // lives on the run's worker (often another process), so here they would be spans with no parent
  // in any trace. They are logged and counted (metrics) instead.
  if (tracing) offs.push(attachTracing(options.runs, tracing.tracer, { redact: options.redact }));
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= (async () => {
      for (const off of offs) off();
      // Bounded: a collector that does not answer must not hold the drain (and the orchestrator's
      // SIGKILL would lose the spans anyway).
      if (tracing) await settleWithin(tracing.shutdown(), options.flushMs);
    })();
    return closed;
  };
}
