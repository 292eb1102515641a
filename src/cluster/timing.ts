// The cluster's clocks, from the environment so that tests (and impatient operators) can shorten
// them. A job's lock lives LOCK_MS and is renewed at half of it; a worker that stops renewing
// (killed, frozen) has its jobs found stalled within about 2 × LOCK_MS and handed to another.
export interface ClusterTiming {
  lockMs: number;
  stalledIntervalMs: number;
  heartbeatMs: number;
  leaseMs: number;
  /** The window of `rate_limit` (a minute; shorter only in tests). */
  rateWindowMs: number;
}

export function clusterTiming(env: NodeJS.ProcessEnv): ClusterTiming {
  const lockMs = positive(env.ELEXIRION_CLUSTER_LOCK_MS) ?? 30_000;
  return {
    lockMs,
    stalledIntervalMs: lockMs,
    heartbeatMs: positive(env.ELEXIRION_HEARTBEAT_MS) ?? 5_000,
    leaseMs: positive(env.ELEXIRION_GATE_LEASE_MS) ?? 15_000,
    rateWindowMs: positive(env.ELEXIRION_RATE_WINDOW_MS) ?? 60_000,
  };
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
