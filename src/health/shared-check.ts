// One check of a dependency shared by the health probes that ask for it at the same time. GET
// /health needs no token, and its journal check writes a file beside the journal (health.ts): a
// burst of probes — a load balancer, a liveness probe and every open dashboard asking together, or
// a flood — makes one write at a time, not one each. Nothing is reused once the check has ended:
// the next probe asks again, so a journal that stops taking writes reads unhealthy at once.
import type { TimedCheck } from './timed-check.js';

export class SharedCheck {
  private inFlight: Promise<TimedCheck> | undefined;

  /** The result of the check under way, else of `check` run now. */
  run(check: () => Promise<TimedCheck>): Promise<TimedCheck> {
    if (!this.inFlight) {
      this.inFlight = check().finally(() => {
        this.inFlight = undefined;
      });
    }
    // A copy each: a caller redacts its report's error in place.
    return this.inFlight.then((result) => ({ ...result }));
  }
}
