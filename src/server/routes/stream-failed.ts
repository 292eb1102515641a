// An event stream that fails once begun (the journal unreadable mid-stream) cannot answer with an
// error status any more (it answered 200): it ends, and the failure is logged the way the API logs
// its 5xx — through the logger and its redactor — rather than left to escape as an unhandled error.
import type { Context } from 'hono';
import { toErrorResponse } from '../http-error.js';
import type { ServerDeps } from '../server-deps.js';

export function streamFailed(deps: Pick<ServerDeps, 'logger'>, c: Context, runId: string, error: unknown): void {
  const { status } = toErrorResponse(error);
  deps.logger?.error(
    { err: error, method: c.req.method, path: c.req.path, runId, status },
    'elexirion serve: event stream failed',
  );
}
