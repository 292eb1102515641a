// What a Gemini error body says beyond its HTTP status. The SDK's ApiError carries the body as its
// message: the JSON body of an HTTP error, or `got status: … {json}` for an error chunk inside a
// 200 stream — so the body is searched as text, which reads both.
import type { HttpFailure } from './map-error.js';

/** ApiError's message is the JSON error body; keep its human part. */
export function errorMessage(raw: string): string {
  try {
    const body = JSON.parse(raw) as { error?: { message?: string; status?: string } };
    if (body.error?.message) return `${body.error.status ?? 'error'}: ${body.error.message}`;
  } catch {
    // not JSON: use as is
  }
  return raw;
}

/** Gemini's 429 body carries `google.rpc.RetryInfo` with `retryDelay: "12s"`. */
export function retryDelayFromBody(raw: string): { retryAfterMs?: number } {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(raw);
  return match ? { retryAfterMs: Number(match[1]) * 1000 } : {};
}

/**
 * A wrong or expired key is a 400 INVALID_ARGUMENT whose `google.rpc.ErrorInfo` detail has the
 * reason API_KEY_INVALID — by its status a bad request, but the key is what is wrong: `auth`, as a
 * 401 or 403 is (not retried, the operator's to fix), not a fault of the request.
 */
export function kindFromBody(raw: string): Pick<HttpFailure, 'kind'> {
  return /"reason"\s*:\s*"API_KEY_INVALID"/.test(raw) ? { kind: 'auth' } : {};
}
