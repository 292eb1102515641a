// `serve`'s sweeps for orphaned runs (engine/orphaned-runs.ts): runs of this host whose process was
// killed, ended `interrupted`. In the background: the first sweep reads up to a thousand running runs
// and each one's journal, which on a large journal takes a while — a server that waited for it
// before listening would be late to start, and its load balancer would take it for dead. A sweep
// failing (the journal unreadable for a moment) is logged, and the next one tries again: it never
// stops the server, nor leaves an unhandled rejection behind.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../telemetry/logger.js';

export interface OrphanSweeps {
  /** No sweep from now on; resolves once the one under way has ended, or after `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

/** Sweeps now, then every `everyMs` — never two at once (a slow sweep is not overlapped by the next). */
export function startOrphanSweeps(
  engine: Pick<Engine, 'interruptOrphanedRuns'>,
  everyMs: number,
  logger?: Logger,
): OrphanSweeps {
  let sweeping: Promise<void> | undefined;
  let stopped = false;
  const sweep = (): void => {
    if (stopped || sweeping) return;
    sweeping = engine
      .interruptOrphanedRuns()
      .then(
        (ended) => {
          for (const runId of ended) logger?.warn({ runId }, 'run interrupted: its process ended before it did');
        },
        (error: unknown) => {
          logger?.warn({ err: error }, 'elexirion serve: could not look for orphaned runs; trying again later');
        },
      )
      .finally(() => {
        sweeping = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return {
    async stop(timeoutMs) {
      stopped = true;
      clearInterval(timer);
      if (!sweeping) return;
      // The sweep writes to the journal: the journal is not closed under it, unless it takes too long.
      const waited = new AbortController();
      await Promise.race([
        sweeping,
        sleep(Math.max(0, timeoutMs), undefined, { signal: waited.signal }).catch(() => {}),
      ]);
      waited.abort(); // the timer must not keep the process alive
    },
  };
}
