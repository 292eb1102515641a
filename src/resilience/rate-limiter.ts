// Requests-per-minute and tokens-per-minute for one provider, over a sliding 60 s window.
// A call that does not fit waits (it does not fail) until enough of the window has expired, so a
// fan-out of 1,000 items stays under the account's limits instead of collecting 429s.
// cockatiel has no rate limiter; this is the small piece we write ourselves.
// Tokens are estimated before the call (chars / 4, plus the output allowance) and corrected with
// the real usage afterwards; a call larger than the whole per-minute allowance runs alone.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimitOptions {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A call's place in the window; settle it with the real token count, or release it if the call never ran. */
export interface RateReservation {
  at: number;
  tokens: number;
}

/**
 * What a provider gate asks of a rate limit. RateLimiter holds it in this process; cluster mode
 * plugs in one shared by every worker (src/cluster/shared-rate-limits.ts).
 */
export interface RateGate {
  acquire(tokens: number, signal: AbortSignal): Promise<RateReservation>;
  settle(reservation: RateReservation, actualTokens: number): void;
  release(reservation: RateReservation): void;
}

export const WINDOW_MS = 60_000;

export class RateLimiter implements RateGate {
  private entries: RateReservation[] = [];

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
    private readonly windowMs = WINDOW_MS,
  ) {}

  async acquire(tokens: number, signal: AbortSignal): Promise<RateReservation> {
    for (;;) {
      signal.throwIfAborted();
      const wait = this.waitMs(tokens);
      if (wait <= 0) {
        const reservation = { at: this.now(), tokens };
        this.entries.push(reservation);
        return reservation;
      }
      await sleep(wait, undefined, { signal });
    }
  }

  settle(reservation: RateReservation, actualTokens: number): void {
    reservation.tokens = actualTokens;
  }

  release(reservation: RateReservation): void {
    this.entries = this.entries.filter((entry) => entry !== reservation);
  }

  /** Milliseconds until a call of `tokens` fits; 0 when it fits now. */
  waitMs(tokens: number): number {
    const now = this.now();
    this.entries = this.entries.filter((entry) => entry.at + this.windowMs > now);
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = this.options;
    let wait = 0;
    if (rpm !== undefined && this.entries.length >= rpm) {
      const freeing = this.entries[this.entries.length - Math.max(1, Math.floor(rpm))];
      if (freeing) wait = Math.max(wait, freeing.at + this.windowMs - now);
    }
    if (tpm !== undefined && this.entries.length > 0) {
      let used = this.entries.reduce((sum, entry) => sum + entry.tokens, 0);
      // Walk the window from its oldest entry until enough tokens have expired.
      for (const entry of this.entries) {
        if (used + tokens <= tpm) break;
        used -= entry.tokens;
        wait = Math.max(wait, entry.at + this.windowMs - now);
      }
    }
    return wait;
  }
}
