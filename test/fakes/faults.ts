// The faults a fake server can inject, queued per request or set as a standing mode. They are the
// failures real providers produce and that the gates (retry, breaker, timeout) must survive.

export type Fault =
  /** Any HTTP error status, with the protocol's error body (or `body`) and extra headers. */
  | { kind: 'status'; status: number; message?: string; headers?: Record<string, string>; body?: unknown }
  /** The TCP connection is destroyed before any response byte is sent. */
  | { kind: 'reset' }
  /** No answer at all until the client gives up; the fake records `aborted` when the socket closes. */
  | { kind: 'hang' }
  /**
   * A stream cut off after `afterEvents` events (a JSON answer is cut off after half its bytes).
   * `end` closes the response cleanly (the client sees a normal end of body); `destroy` kills the socket.
   */
  | { kind: 'truncate'; afterEvents?: number; how?: 'end' | 'destroy' }
  /** A 200 whose body (or one stream event) is not valid JSON. */
  | { kind: 'malformed' }
  /**
   * An error sent inside a 200 stream after `afterEvents` events, in the vendor's own shape: Anthropic
   * `event: error` with `{type: 'error', error: {type, message}}`; OpenAI a `data:` line with
   * `{error: {message, type, code}}`; Gemini a `data:` line with `{error: {code, message, status}}`.
   * `errorType` is the vendor's word for it (`overloaded_error`, `server_error`, `UNAVAILABLE`).
   */
  | { kind: 'stream_error'; afterEvents?: number; errorType?: string; message?: string };

export const faults = {
  /** 429 with `retry-after` in seconds plus the vendors' reset headers. */
  rateLimited(retryAfterSeconds = 1, extraHeaders: Record<string, string> = {}): Fault {
    return {
      kind: 'status',
      status: 429,
      message: 'Rate limit exceeded',
      headers: {
        'retry-after': String(retryAfterSeconds),
        'x-ratelimit-reset-requests': `${retryAfterSeconds}s`,
        'anthropic-ratelimit-requests-reset': new Date(Date.now() + retryAfterSeconds * 1000).toISOString(),
        ...extraHeaders,
      },
    };
  },
  serverError(): Fault {
    return { kind: 'status', status: 500, message: 'Internal server error' };
  },
  unavailable(): Fault {
    return { kind: 'status', status: 503, message: 'Service unavailable' };
  },
  /** Anthropic's 529 `overloaded_error`. */
  overloaded(): Fault {
    return { kind: 'status', status: 529, message: 'Overloaded' };
  },
  badRequest(message = 'Invalid request'): Fault {
    return { kind: 'status', status: 400, message };
  },
  unauthorized(): Fault {
    return { kind: 'status', status: 401, message: 'Invalid API key' };
  },
  reset(): Fault {
    return { kind: 'reset' };
  },
  hang(): Fault {
    return { kind: 'hang' };
  },
  truncate(afterEvents = 2, how: 'end' | 'destroy' = 'end'): Fault {
    return { kind: 'truncate', afterEvents, how };
  },
  malformed(): Fault {
    return { kind: 'malformed' };
  },
  streamError(afterEvents = 2, errorType = 'overloaded_error', message = 'Overloaded'): Fault {
    return { kind: 'stream_error', afterEvents, errorType, message };
  },
};
