// What the run routes answer with, made fit to leave the server (GET /runs and GET /runs/:id alike).
import { redactDeep } from '../../telemetry/redact.js';
import { relativeDeep } from '../root-relative.js';
import type { ServerDeps } from '../server-deps.js';

/**
 * A run (or runs) as the API serves it: its errors and the files its steps name relative to the root,
 * then every string redacted — outputs kept as the steps produced them, secrets aside.
 */
export function outgoing<T>(deps: Pick<ServerDeps, 'redact' | 'relativize'>, value: T): T {
  return redactDeep(relativeDeep(value, deps.relativize), deps.redact);
}
