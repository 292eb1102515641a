// How a cancelled run surfaces from inside the gate: the run's own reason when the engine gave
// one (a typed error), otherwise a non-retryable ProviderError of kind 'aborted'.
import { ElexirionError } from '../errors.js';
import { ProviderError } from '../providers/provider-error.js';

export function abortError(provider: string, signal: AbortSignal): Error {
  if (signal.reason instanceof ElexirionError) return signal.reason;
  return new ProviderError(provider, 'aborted', 'the call was cancelled', { cause: signal.reason });
}

/**
 * Settles with `work`, or rejects as soon as `signal` fires — whichever comes first. A wait the
 * policies do not cancel themselves (cockatiel's bulkhead queue) is abandoned at once; the
 * abandoned work finds the signal aborted when its turn comes and stops there.
 */
export function raceAbort<T>(provider: string, work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(provider, signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(provider, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
