// Every error the API returns is JSON: {error, hint?, diagnostics?}, with a 4xx status when the
// caller can fix it. Messages pass through the redactor: an error never carries a secret out; and
// they name files under --root relative to it.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError, ElexirionError, ExitCode } from '../errors.js';
import { storageError } from '../journal/storage-errors.js';
import { type Redactor, redactDeep } from '../telemetry/redact.js';
import { retryLater } from './retry-after.js';
import { type PathNamer, relativeDeep } from './root-relative.js';

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly hint?: string,
    /** The problems one by one (`file:line:col`, key path, message, hint), as for an invalid pipeline. */
    readonly diagnostics?: unknown[],
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: string;
  hint?: string;
  diagnostics?: unknown[];
}

/** Maps any thrown value to a status and body; unknown errors are 500s with no internals leaked. */
export function toErrorResponse(thrown: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  // A full disk or an unwritable journal: the server's storage, 503 — not a bug (500).
  const error = storageError(thrown) ?? thrown;
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: {
        error: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
        ...(error.diagnostics ? { diagnostics: error.diagnostics } : {}),
      },
    };
  }
  if (error instanceof ConfigError) {
    return {
      status: 422,
      body: {
        error: 'the pipeline is invalid',
        hint: 'fix the problems listed in `diagnostics` (elexirion validate shows the same)',
        diagnostics: error.diagnostics,
      },
    };
  }
  if (error instanceof ElexirionError && error.exitCode === ExitCode.invalidInput) {
    return { status: 400, body: { error: error.message, ...(error.hint ? { hint: error.hint } : {}) } };
  }
  if (error instanceof ElexirionError && error.exitCode === ExitCode.unavailable) {
    return { status: 503, body: { error: error.message, ...(error.hint ? { hint: error.hint } : {}) } };
  }
  return {
    status: 500,
    body: { error: 'internal error', hint: 'this is a bug in Elexirion; the server log has the details' },
  };
}

export function errorResponse(
  c: Context,
  error: unknown,
  redact: Redactor,
  relativize: PathNamer = (text) => text,
): Response {
  const { status, body } = toErrorResponse(error);
  // The rest of an oversized body is never read: the connection cannot serve another request.
  if (status === 413) c.header('connection', 'close');
  // Every 503 is the server's state (shutting down, its journal or Redis failing): ask again later.
  if (status === 503) retryLater(c);
  // String by string: the body stays the JSON it was, whatever a message holds.
  return c.json(redactDeep(relativeDeep(body, relativize), redact), status);
}
