// A fixed window of workers pulling work, as batch and parallel use it: bounded concurrency without
// a promise per unit of work.

/**
 * Runs `count` copies of `worker` and waits for every one of them. The first worker that throws
 * aborts `cancel` (so the others stop taking work and cancel what they run) and its error is
 * rethrown once all have stopped: no worker outlives the step that started it.
 */
export async function runWorkers(count: number, worker: () => Promise<void>, cancel: AbortController): Promise<void> {
  let failure: { error: unknown } | undefined;
  await Promise.all(
    Array.from({ length: count }, () =>
      worker().catch((error: unknown) => {
        failure ??= { error };
        if (!cancel.signal.aborted) cancel.abort(error);
      }),
    ),
  );
  if (failure) throw failure.error;
}
