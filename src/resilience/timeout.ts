// The per-attempt timeout. The attempt is given up at the deadline even if the provider ignores its
// signal (what cockatiel calls the aggressive strategy). The provider receives a signal that fires
// on the deadline *or* when the run is cancelled, and the SDKs pass it to fetch, so the HTTP request
// itself is aborted and its socket closed — a timed-out call costs nothing more.
//
// Not cockatiel's TimeoutPolicy, on purpose: every call of a batch item pays for this (a step's own
// calls usually need none, see ProviderGate), and the policy's derived controller, two abort
// listeners, event emitters and executor cost ~12 µs per call against ~2 µs here (measured with
// bench/gate.bench.ts) — the largest part of the gate for a fan-out of fast calls. One controller,
// one timer and one listener on the run's signal is all a timeout needs.
import { ProviderError } from '../providers/provider-error.js';
import { abortError } from './abort.js';

// A promise chain, not an async function: every call of a batch's items in flight would keep one
// more suspended frame alive through every garbage collection while it waits.
export function withAttemptTimeout<T>(
  provider: string,
  timeoutMs: number,
  runSignal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (runSignal.aborted) return Promise.reject(abortError(provider, runSignal));
  const controller = new AbortController();
  let settle: (value: T) => void = noop;
  let expired: (error: unknown) => void = noop;
  const attempt = new Promise<T>((resolve, reject) => {
    settle = resolve;
    expired = reject;
  });
  const timer = setTimeout(() => {
    const error = timedOut(provider, timeoutMs);
    controller.abort(error);
    expired(error);
  }, timeoutMs);
  const onRunAbort = () => {
    controller.abort(runSignal.reason);
    expired(abortError(provider, runSignal));
  };
  runSignal.addEventListener('abort', onRunAbort, { once: true });
  let work: Promise<T>;
  try {
    work = fn(controller.signal);
  } catch (error) {
    work = Promise.reject(error);
  }
  work.then(settle, expired);
  const cleanUp = (): void => {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onRunAbort);
  };
  return attempt.then(
    (value) => {
      cleanUp();
      return value;
    },
    (error: unknown) => {
      cleanUp();
      if (runSignal.aborted) throw abortError(provider, runSignal);
      // The run was not cancelled, so a cancellation is our deadline: the provider noticed the
      // aborted signal before the timer's rejection won the race.
      if (controller.signal.aborted && error instanceof ProviderError && error.kind === 'aborted') {
        throw timedOut(provider, timeoutMs, error);
      }
      throw error;
    },
  );
}

function timedOut(provider: string, timeoutMs: number, cause?: unknown): ProviderError {
  const message = `no answer within ${timeoutMs} ms (attempt timeout)`;
  return new ProviderError(provider, 'timeout', message, cause === undefined ? undefined : { cause });
}

function noop(): void {}
