// Waiting a bounded time for work that may never end (a step that ignores its signal, a queue
// client waiting for a Redis that is gone): settles when `work` does, either way, or after `ms`.
export function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.then(noop, noop), grace]).finally(() => clearTimeout(timer));
}

const noop = (): void => {};
