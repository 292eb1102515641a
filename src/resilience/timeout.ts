// The per-attempt timeout, on cockatiel's TimeoutPolicy (aggressive: the attempt is given up at
// the deadline even if the provider ignores its signal). The provider receives a signal that
// fires on the deadline *or* when the run is cancelled, and the SDKs pass it to fetch, so the
// HTTP request itself is aborted and its socket closed — a timed-out call costs nothing more.
import { TaskCancelledError, type TimeoutPolicy, TimeoutStrategy, timeout } from 'cockatiel';
import { ProviderError } from '../providers/provider-error.js';
import { abortError } from './abort.js';

// A policy holds no per-call state, so one per duration serves every call (building one per
// attempt was a measurable part of a call's overhead). Few distinct durations exist in practice.
const policies = new Map<number, TimeoutPolicy>();
const MAX_POLICIES = 256;

function policyFor(timeoutMs: number): TimeoutPolicy {
  let policy = policies.get(timeoutMs);
  if (!policy) {
    if (policies.size >= MAX_POLICIES) policies.clear();
    // No abortOnReturn: aborting a finished attempt costs a DOMException per call and cancels
    // nothing (the answer has been read whole by then).
    policy = timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    policies.set(timeoutMs, policy);
  }
  return policy;
}

export async function withAttemptTimeout<T>(
  provider: string,
  timeoutMs: number,
  runSignal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await policyFor(timeoutMs).execute((context) => fn(context.signal), runSignal);
  } catch (error) {
    if (runSignal.aborted) throw abortError(provider, runSignal);
    // The run was not cancelled, so a cancellation is our deadline: cockatiel's own error when it
    // gave up first, or the provider's reaction to the aborted signal when it noticed first.
    if (error instanceof TaskCancelledError || (error instanceof ProviderError && error.kind === 'aborted')) {
      throw new ProviderError(provider, 'timeout', `no answer within ${timeoutMs} ms (attempt timeout)`, {
        cause: error,
      });
    }
    throw error;
  }
}
