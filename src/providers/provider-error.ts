// The one error type a provider throws. Its `kind` decides everything downstream:
// whether the retry policy tries again, whether the circuit breaker counts it, and how long
// to wait (`retryAfterMs` from `retry-after` / `x-ratelimit-*` headers beats backoff).
import { ElexirionError, ExitCode } from '../errors.js';
import type { Usage } from './provider.js';

export type ProviderErrorKind =
  | 'rate_limited' // 429
  | 'overloaded' // 529, 503
  | 'server' // other 5xx
  | 'timeout' // our timeout fired
  | 'connection' // reset, refused, DNS, cut-off stream
  | 'invalid_response' // malformed JSON, missing fields
  | 'output_limit' // the answer hit the request's output cap (max_tokens) inside a tool call's arguments
  | 'auth' // 401, 403, 402 (the account: billing, credit), missing key
  | 'bad_request' // other 4xx: the request itself is wrong
  | 'aborted'; // the run was cancelled

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limited',
  'overloaded',
  'server',
  'timeout',
  'connection',
  'invalid_response',
]);

/** Faults of the provider (not of the user's request): what a circuit breaker counts. */
const PROVIDER_FAULT: ReadonlySet<ProviderErrorKind> = new Set(['overloaded', 'server', 'timeout', 'connection']);

export class ProviderError extends ElexirionError {
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly status?: number;
  /** How long the provider asked us to wait before trying again. */
  readonly retryAfterMs?: number;
  /**
   * What the vendor reported this call used, when it answered (and billed) before the answer
   * turned out unusable — tool call arguments cut off by max_tokens, or not JSON. The model caller
   * adds it to the call's usage and cost: a paid attempt is never recorded as free.
   */
  readonly usage?: Usage;

  constructor(
    provider: string,
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown; usage?: Usage } = {},
  ) {
    super(`${provider}: ${message}`, { exitCode: ExitCode.runFailed, cause: options.cause });
    this.provider = provider;
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.usage !== undefined) this.usage = options.usage;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  get providerFault(): boolean {
    return PROVIDER_FAULT.has(this.kind);
  }
}

/**
 * A tool call whose arguments (its JSON input) are not JSON, in an answer the vendor billed (`usage`).
 * Cut off by the request's own output cap — the answer stopped with finish reason `length` /
 * `max_tokens` — it is `output_limit`, not retried: the same request would be cut at the same place
 * and paid again. Otherwise the answer is malformed (a fault of the server's): `invalid_response`,
 * retried. `maxTokens`: the cap the request sent, when it sent one.
 */
export function unusableToolArguments(
  provider: string,
  tool: string,
  cut: boolean,
  usage: Usage,
  maxTokens?: number,
): ProviderError {
  if (!cut) {
    return new ProviderError(provider, 'invalid_response', `the arguments of tool call ${tool} are not JSON`, {
      usage,
    });
  }
  const cap = maxTokens === undefined ? 'its output limit' : `max_tokens (${maxTokens})`;
  return new ProviderError(
    provider,
    'output_limit',
    `the answer hit ${cap} inside the arguments of tool call ${tool}, which are cut off (not JSON); ` +
      'the same request would be cut off the same way: raise max_tokens',
    { usage },
  );
}

/** Maps an HTTP status to the kind of error it means. */
export function kindFromStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return 'server';
  // 402: the account cannot pay (Anthropic's billing_error) — as a key refused, the operator's to fix.
  if (status === 401 || status === 403 || status === 402) return 'auth';
  if (status === 408) return 'timeout';
  return 'bad_request';
}

/**
 * The vendors' reset headers, each with the header that says how much of that limit is left.
 * A 429 names no limit: the one whose `remaining` is 0 is the one that was hit.
 */
const RESET_HEADERS: ReadonlyArray<readonly [reset: string, remaining: string]> = [
  ['x-ratelimit-reset-requests', 'x-ratelimit-remaining-requests'],
  ['x-ratelimit-reset-tokens', 'x-ratelimit-remaining-tokens'],
  ['anthropic-ratelimit-requests-reset', 'anthropic-ratelimit-requests-remaining'],
  ['anthropic-ratelimit-tokens-reset', 'anthropic-ratelimit-tokens-remaining'],
  ['anthropic-ratelimit-input-tokens-reset', 'anthropic-ratelimit-input-tokens-remaining'],
  ['anthropic-ratelimit-output-tokens-reset', 'anthropic-ratelimit-output-tokens-remaining'],
];

/**
 * Reads how long to wait from the headers of an answer with HTTP status `status`: `retry-after`
 * (seconds or an HTTP date) or `retry-after-ms`, whatever the status; then, for a 429 only, the
 * `x-ratelimit-reset-*` / `anthropic-ratelimit-*-reset` family (e.g. `6m0s`, `1.5s`, seconds, an
 * RFC 3339 time) — the reset of an exhausted limit (its `remaining` is 0), the longest when several
 * are, since an earlier retry would only collect another 429. Nothing else: the retry backs off.
 */
export function retryAfterFromHeaders(
  get: (name: string) => string | null | undefined,
  status: number,
  now = Date.now(),
): number | undefined {
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = get('retry-after');
  if (ra) {
    const seconds = Number(ra);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  // The reset headers describe the account's limits, not the error, and come with every answer
  // (OpenAI and the gateways that copy it send them with a 503 too). Only a 429 says a limit was
  // hit, and only an exhausted limit's reset says when a retry can pass: the reset of a limit with
  // room left (a daily request limit resets in hours) is no wait at all — taken for one, it turned
  // a transient 503 into a wait past the cap, which is not retried.
  if (status !== 429) return undefined;
  let exhausted: number | undefined;
  for (const [resetName, remainingName] of RESET_HEADERS) {
    const remaining = get(remainingName);
    if (!remaining || !(Number(remaining) <= 0)) continue;
    const v = get(resetName);
    const parsed = v ? parseResetValue(v, now) : undefined;
    if (parsed !== undefined) exhausted = Math.max(exhausted ?? 0, parsed);
  }
  return exhausted;
}

function parseResetValue(v: string, now: number): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const go = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(v);
  if (go && v.length > 0) {
    const [, h, m, s, msPart] = go;
    return (Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000 + Number(msPart ?? 0);
  }
  const date = Date.parse(v); // anthropic sends an RFC 3339 timestamp
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  return undefined;
}
