// A 503 says the server cannot serve the request now, not that the request is wrong: the same
// request may well succeed later — the journal's disk freed, the cluster's Redis back, the server
// restarted after its shutdown (or another instance behind the same address). `Retry-After` tells a
// client (an SDK's retry loop, a load balancer, a script) how long to wait before asking again,
// rather than asking again at once, in a loop, of a server that is struggling or going away.
import type { Context } from 'hono';

/** Long enough not to hammer a struggling server; short enough that a brief outage costs little. */
export const RETRY_AFTER_SECONDS = 5;

/** Marks the answer being built on `c` as one to ask again after RETRY_AFTER_SECONDS. */
export function retryLater(c: Context): void {
  c.header('Retry-After', String(RETRY_AFTER_SECONDS));
}
