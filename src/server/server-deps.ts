// What the HTTP app needs from the process around it; tests build it with an in-memory store.
import type { Engine } from '../engine/engine.js';
import type { HealthReport } from '../health/health.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Redactor } from '../telemetry/redact.js';
import type { RunEventHub } from './run-event-hub.js';

export interface ServerDeps {
  engine: Engine;
  hub: RunEventHub;
  metrics: Metrics;
  health: () => Promise<HealthReport>;
  /** Pipelines named by path must lie inside this directory. */
  root: string;
  /** ELEXIRION_TOKEN; undefined only on a loopback host. */
  token?: string;
  redact: Redactor;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Interval of the keep-alive comments of an event stream (default 15 s). */
  keepAliveMs?: number;
}
