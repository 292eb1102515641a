// Shared pieces of turning whatever an SDK throws into a ProviderError: the abort/timeout decision
// (it belongs to our signal, not to the SDK), network failures, and the key scrubbing that makes
// sure no secret ever travels inside an error message.

import { redactUrl } from '../telemetry/redact.js';
import { kindFromStatus, ProviderError, type ProviderErrorKind, retryAfterFromHeaders } from './provider-error.js';

/** True when `signal` was aborted because a deadline passed (AbortSignal.timeout, or a reason named TimeoutError). */
export function isTimeoutReason(reason: unknown): boolean {
  if (reason instanceof ProviderError) return reason.kind === 'timeout';
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/** The error for a call stopped by our own signal: `timeout` when a deadline fired, `aborted` otherwise. */
export function abortError(provider: string, signal: AbortSignal, cause?: unknown): ProviderError {
  const timedOut = isTimeoutReason(signal.reason);
  return new ProviderError(
    provider,
    timedOut ? 'timeout' : 'aborted',
    timedOut ? 'the call timed out and was cancelled' : 'the call was cancelled',
    { cause },
  );
}

/**
 * What a provider scrubs from its errors: its key, and the values of the headers it sends (a
 * gateway's credential in `*_CUSTOM_HEADERS`; a gateway's 401 body often quotes the request's
 * headers). Short values ("prod", "1") are left: replacing every occurrence would garble messages.
 */
export function providerSecrets(apiKey: string | undefined, headers: Readonly<Record<string, string>> = {}): string[] {
  const values = Object.values(headers).filter((value) => value.length >= 8);
  return apiKey ? [apiKey, ...values] : values;
}

/** Replaces every secret found in `text` by `***`. */
export function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  // A base URL with credentials (a proxy's) shows in the SDKs' connection errors.
  return redactUrl(out);
}

export interface HttpFailure {
  status: number;
  message: string;
  headers?: (name: string) => string | null | undefined;
  /** A hint from the body when there are no headers (Gemini's RetryInfo). */
  retryAfterMs?: number;
  /** What the body says it is, when that differs from what the status alone would mean. */
  kind?: ProviderErrorKind;
}

export function httpError(
  provider: string,
  failure: HttpFailure,
  secrets: ReadonlyArray<string | undefined>,
  cause?: unknown,
): ProviderError {
  const retryAfterMs =
    (failure.headers && retryAfterFromHeaders(failure.headers, failure.status)) ?? failure.retryAfterMs;
  return new ProviderError(provider, failure.kind ?? kindFromStatus(failure.status), scrub(failure.message, secrets), {
    status: failure.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    cause: scrubbedCause(cause, secrets),
  });
}

/**
 * A request the SDK could not complete over the network, as the SDK itself tells (the Anthropic and
 * openai SDKs' APIConnectionError, which the providers recognise by class). `timedOut` — their
 * APIConnectionTimeoutError, a bare "Request timed out." with no cause: a host that does not answer,
 * or undici's connect timeout — is kind `timeout`; any other is `connection` (refused, reset, DNS).
 * Both are faults of the provider's: retried, and counted by its circuit breaker. Our own deadline
 * is not one of these: the caller's signal tells it apart first (abortError).
 */
export function transportError(
  provider: string,
  err: unknown,
  secrets: ReadonlyArray<string | undefined>,
  timedOut: boolean,
): ProviderError {
  const message = scrub(describe(err), secrets);
  return new ProviderError(
    provider,
    timedOut ? 'timeout' : 'connection',
    timedOut ? `timed out waiting for the server (${message})` : `connection failed: ${message}`,
    { cause: scrubbedCause(err, secrets) },
  );
}

/** Errors that are not HTTP answers: network failures, unparsable bodies, anything else the SDK raises. */
export function otherError(provider: string, err: unknown, secrets: ReadonlyArray<string | undefined>): ProviderError {
  if (!(err instanceof SyntaxError)) {
    if (looksLikeTimeout(err)) return transportError(provider, err, secrets, true);
    if (looksLikeNetwork(err)) return transportError(provider, err, secrets, false);
  }
  return new ProviderError(provider, 'invalid_response', scrub(describe(err), secrets), {
    cause: scrubbedCause(err, secrets),
  });
}

/** A stream that ended before its terminal event: retryable, never a half answer. */
export function truncatedStream(provider: string, what: string): ProviderError {
  return new ProviderError(provider, 'connection', `the stream was cut off before ${what}`);
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** undici's own deadlines (connect; headers and body, which our pools turn off: connection-pool.ts). */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** A transport that gave up waiting: undici's timeout errors, anywhere in the cause chain, or an SDK's by name. */
function looksLikeTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return true;
    if (name === 'APIConnectionTimeoutError') return true;
  }
  return false;
}

function looksLikeNetwork(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'APIConnectionError') return true;
    if (
      typeof message === 'string' &&
      /fetch failed|terminated|socket hang up|other side closed|network/i.test(message)
    ) {
      return true;
    }
  }
  return false;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && err.cause.message !== err.message ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** SDK errors may carry the request (and its headers) around; keep only a scrubbed message as the cause. */
function scrubbedCause(err: unknown, secrets: ReadonlyArray<string | undefined>): Error | undefined {
  if (err === undefined) return undefined;
  const copy = new Error(scrub(describe(err), secrets));
  copy.name = err instanceof Error ? err.name : 'Error';
  return copy;
}
