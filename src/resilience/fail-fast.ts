// Errors after which a step should fail over to its fallback at once, instead of retrying or
// waiting: the provider is known to be unavailable (open circuit) or saturated (bulkhead full).
import { BulkheadRejectedError } from './bulkhead.js';
import { CircuitOpenError } from './circuit-breaker.js';

export function isFailFast(error: unknown): boolean {
  return error instanceof CircuitOpenError || error instanceof BulkheadRejectedError;
}
