// An event as the event streams send it (GET /runs/:id/events, local or polled from a cluster).
import { redactDeep } from '../../telemetry/redact.js';
import { relativeDeep } from '../root-relative.js';
import type { ServerDeps } from '../server-deps.js';

/**
 * An event as a stream sends it: its messages naming files relative to the root, then every string
 * redacted before it is serialized — a chunk's text is sent as the model wrote it, secrets aside, and
 * the line stays the JSON it was.
 */
export function eventPayload(
  deps: Pick<ServerDeps, 'redact' | 'relativize'>,
  event: { seq?: number | undefined; type: string; at: number; data: unknown },
): { seq: number | null; type: string; at: number; data: unknown } {
  const payload = { seq: event.seq ?? null, type: event.type, at: event.at, data: event.data };
  return redactDeep(relativeDeep(payload, deps.relativize), deps.redact);
}
