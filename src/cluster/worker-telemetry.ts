// A worker's traces and run log: in cluster mode every run runs on a worker, so unless the worker
// itself logs and traces, no process does (`serve --cluster` runs nothing). The same subscribers as
// serve's (tracing.ts, logger.ts), on the worker's buses; and the spans of the batch chunks it runs
// (chunk-tracing.ts), which join the trace of their run, wherever the run's worker is.
import { settleWithin } from '../engine/settle-within.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { attachLogging, type Logger } from '../telemetry/logger.js';
import type { Redactor } from '../telemetry/redact.js';
import { traceparentOf } from '../telemetry/traceparent.js';
import { attachTracing, type Tracing } from '../telemetry/tracing.js';
import { ChunkTracing } from './chunk-tracing.js';

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

/** What a worker's telemetry gives it; the two tracing parts exist only when it traces. */
export interface WorkerTelemetry {
  /** The span of a step of a run this worker runs, open now, as a W3C traceparent (for chunk jobs). */
  traceparent?: (runId: string, step: string) => string | undefined;
  /** The spans of the chunks this worker runs (their items' calls under them). */
  chunks?: ChunkTracing;
  /** Unsubscribes, and flushes the spans still to export. */
  close(): Promise<void>;
}

/** Subscribes the log and the tracing to the worker's buses. */
export function attachWorkerTelemetry(options: WorkerTelemetryOptions): WorkerTelemetry {
  const { logger, tracing } = options;
  const offs: (() => void)[] = [];
  if (logger) offs.push(attachLogging(options.runs, logger), attachLogging(options.items, logger));
  let traced: Pick<WorkerTelemetry, 'traceparent' | 'chunks'> = {};
  if (tracing) {
    const runs = attachTracing(options.runs, tracing.tracer, { redact: options.redact });
    // A chunk's item calls go under the chunk's span, not under spans of this bus: their batch's
    // step span lives on the run's worker, often another process.
    const chunks = new ChunkTracing(tracing.tracer, options.redact);
    offs.push(runs, chunks.attach(options.items));
    traced = {
      traceparent: (runId, step) => {
        const span = runs.stepSpan(runId, step);
        return span === undefined ? undefined : traceparentOf(span);
      },
      chunks,
    };
  }
  let closed: Promise<void> | undefined;
  return {
    ...traced,
    close: () => {
      closed ??= (async () => {
        for (const off of offs) off();
        // Bounded: a collector that does not answer must not hold the drain (and the orchestrator's
        // SIGKILL would lose the spans anyway).
        if (tracing) await settleWithin(tracing.shutdown(), options.flushMs);
      })();
      return closed;
    },
  };
}
