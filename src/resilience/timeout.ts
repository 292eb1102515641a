// The per-attempt timeout, on cockatiel's TimeoutPolicy (aggressive: the attempt is given up at
// the deadline even if the provider ignores its signal). The provider receives a signal that
// fires on the deadline *or* when the run is cancelled, and the SDKs pass it to fetch, so the
// HTTP request itself is aborted and its socket closed — a timed-out call costs nothing more.
import { TimeoutStrategy, timeout } from 'cockatiel';
import { ProviderError } from '../providers/provider-error.js';
import { abortError } from './abort.js';

export async function withAttemptTimeout<T>(
  provider: string,
  timeoutMs: number,
  runSignal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // No abortOnReturn: aborting a finished attempt costs a DOMException per call and cancels nothing
  // (the answer has been read whole by then).
  const policy = timeout(timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  // onTimeout fires when the attempt's signal aborts while it runs: our deadline or the run's cancel.
  let fired = false;
  const listener = policy.onTimeout(() => {
    fired = true;
  });
  try {
    return await policy.execute((context) => fn(context.signal), runSignal);
  } catch (error) {
    if (runSignal.aborted) throw abortError(provider, runSignal);
    if (fired) {
      throw new ProviderError(provider, 'timeout', `no answer within ${timeoutMs} ms (attempt timeout)`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    listener.dispose();
  }
}
