// One dependency of the health report (the journal, the cluster's Redis) asked something real,
// bounded in time: a dependency that hangs — a server that accepts the connection and never answers,
// a client queueing commands until it reconnects — must make the check say so, not hang the probe
// (a load balancer's health check with it, or `elexirion health` for ever).
import type { CheckStatus } from './health.js';

export interface TimedCheck {
  status: CheckStatus;
  latencyMs?: number;
  error?: string;
}

export async function timedCheck(probe: () => Promise<unknown>, timeoutMs: number, what: string): Promise<TimedCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timedOut]);
    return { status: 'ok', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'fail', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
