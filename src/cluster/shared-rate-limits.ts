// Cluster-wide rate limits: a provider's `rate_limit: { requests_per_minute, tokens_per_minute }`
// holds for every worker together, with the same sliding window as the local RateLimiter.
//
// The window is a sorted set of reservations scored by when they were taken (Redis server time, so
// the workers' clocks do not matter), with their token counts in a hash beside it. One Lua script
// drops what left the window, and either records the new reservation or answers how long until it
// fits; the caller sleeps that long and asks again. A call turned away before it reached the
// provider gives its reservation back; a finished one corrects its token estimate. A worker that
// dies holding reservations does not leak them: they leave the window with time, as calls made do.
//
// One window per gate: the keys are `<prefix>:rate:<name>:<gateId>:window` and `…:tokens`, the
// gate id being the one the GateRegistry gives each provider name, endpoint and settings
// (gate-key.ts), the same on every worker. Two pipelines that give `anthropic` two `rate_limit`s,
// or two base_urls, draw on two windows, as they do on one machine; one configuration run by every
// worker draws on one. A caller without a gate id gets the per-name keys of before
// (`<prefix>:rate:<name>:window`). Across a rolling upgrade (or a change to what gate-key.ts
// hashes) old and new workers keep two windows for a while, so a limit may be passed by up to
// twice its amount for one window's time; the old keys expire 2 × the window after their last use,
// and no worker waits on a key it does not write to.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { GateOptions } from '../resilience/gate-options.js';
import type { SharedRateFactory } from '../resilience/gate-registry.js';
import { type RateGate, type RateReservation, WINDOW_MS } from '../resilience/rate-limiter.js';

// KEYS: the window (zset id → taken at), the tokens (hash id → tokens).
// ARGV: window ms, rpm (-1: none), tpm (-1: none), tokens of this call, its id.
// Returns 0 when reserved, else the milliseconds until it may fit.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)
for i = 1, #gone do redis.call('HDEL', KEYS[2], gone[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count = #entries / 2
local wait = 0
if rpm >= 0 and count >= rpm then
  local freeing = tonumber(entries[(count - rpm) * 2 + 2]) or now
  wait = math.max(wait, freeing + window - now)
end
if tpm >= 0 and count > 0 then
  local used = 0
  for _, amount in ipairs(redis.call('HVALS', KEYS[2])) do used = used + tonumber(amount) end
  -- walk the window from its oldest entry until enough tokens have left it
  for i = 1, count do
    if used + tokens <= tpm then break end
    used = used - (tonumber(redis.call('HGET', KEYS[2], entries[i * 2 - 1])) or 0)
    wait = math.max(wait, tonumber(entries[i * 2]) + window - now)
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], tokens)
redis.call('PEXPIRE', KEYS[1], window * 2)
redis.call('PEXPIRE', KEYS[2], window * 2)
return 0`;

// Corrects a reservation's tokens, if it is still in the window.
const SETTLE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return 1`;

/** A gate's window and tokens: per gate id when given, else per provider name (names have no `:`). */
export function rateKeys(prefix: string, provider: string, gateId?: string): [string, string] {
  const path = gateId ? `${prefix}:rate:${provider}:${gateId}` : `${prefix}:rate:${provider}`;
  return [`${path}:window`, `${path}:tokens`];
}

/** A reservation in the shared window: the id names it in Redis. */
interface SharedReservation extends RateReservation {
  id: string;
}

/** Jitter on top of the wait Redis answers, so that workers woken together do not ask together. */
const JITTER_MS = 25;

export class SharedRateLimits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** The factory the GateRegistry asks for each gate's rate limit: one only where one is set. */
  readonly factory: SharedRateFactory = (provider, options, gateId) =>
    options.rateLimit ? this.limit(rateKeys(this.prefix, provider, gateId), options) : undefined;

  private limit(keys: [string, string], options: GateOptions): RateGate {
    const rpm = options.rateLimit?.requestsPerMinute ?? -1;
    const tpm = options.rateLimit?.tokensPerMinute ?? -1;
    return {
      acquire: async (tokens, signal) => {
        const id = randomUUID();
        for (;;) {
          signal.throwIfAborted();
          const wait = Number(await this.redis.eval(ACQUIRE, 2, ...keys, this.windowMs, rpm, tpm, tokens, id));
          if (wait <= 0) return { id, at: Date.now(), tokens } satisfies SharedReservation;
          await sleep(wait + Math.random() * JITTER_MS, undefined, { signal });
        }
      },
      settle: (reservation, actualTokens) => {
        reservation.tokens = actualTokens;
        const { id } = reservation as SharedReservation;
        this.redis.eval(SETTLE, 2, ...keys, id, actualTokens).catch(() => {}); // the estimate stands
      },
      release: (reservation) => {
        const { id } = reservation as SharedReservation;
        this.redis
          .multi()
          .zrem(keys[0], id)
          .hdel(keys[1], id)
          .exec()
          .catch(() => {}); // else it leaves the window with time
      },
    };
  }
}
