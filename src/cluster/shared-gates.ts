// Cluster-wide provider gates: a provider's max_concurrency holds for every worker together, and a
// breaker that opens on one worker is seen by all.
//
// The semaphore is a sorted set of leases scored by their expiry (Redis server time), taken and
// counted in one Lua script: a worker that dies holding slots loses them when their leases expire
// (LEASE_MS); a live worker renews its leases every LEASE_MS / 3. A breaker that opens locally is
// written to a key that lives for the recovery timeout; while it exists every worker fails fast
// (CircuitOpenError) without calling the provider. The local bulkhead and breaker stay in place:
// the shared slot is asked for inside them, right before the call.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { abortError } from '../resilience/abort.js';
import { CircuitOpenError } from '../resilience/circuit-breaker.js';
import type { GateOptions } from '../resilience/gate-options.js';
import type { SharedAdmissionFactory } from '../resilience/gate-registry.js';
import type { SharedAdmission } from '../resilience/provider-gate.js';
import type { EventBus } from '../telemetry/event-bus.js';

export const LEASE_MS = 15_000;
/** Above this a limit is no limit (the mock's default): no Redis round trip per call. */
const UNBOUNDED = 10_000;
const MIN_WAIT_MS = 2;
const MAX_WAIT_MS = 50;

const ACQUIRE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV - 1 do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[#ARGV]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[#ARGV]) * 2)
return 1`;

export function leasesKey(prefix: string, provider: string): string {
  return `${prefix}:gate:${provider}:leases`;
}

export function breakerKey(prefix: string, provider: string): string {
  return `${prefix}:gate:${provider}:breaker`;
}

export class SharedGates {
  /** Leases held by this process, by provider: renewed until released. */
  private readonly held = new Map<string, Set<string>>();
  private readonly recoveryMs = new Map<string, number>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly offCircuit: () => void;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    bus: EventBus,
    private readonly leaseMs = LEASE_MS,
  ) {
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.renewTimer.unref();
    this.offCircuit = bus.on('pipeline.provider.circuit', ({ provider, state }) => {
      const ms = this.recoveryMs.get(provider);
      if (ms === undefined) return; // not a shared gate
      const key = breakerKey(this.prefix, provider);
      const write = state === 'open' ? this.redis.set(key, 'open', 'PX', ms) : this.redis.del(key);
      write.catch(() => {}); // a lost breaker notice costs the others a few failed calls, not a run
    });
  }

  /** The factory the GateRegistry asks for each provider's shared admission. */
  readonly factory: SharedAdmissionFactory = (provider, options) => {
    if (options.maxConcurrency >= UNBOUNDED) return undefined;
    this.recoveryMs.set(provider, options.recoveryTimeoutMs);
    return this.admission(provider, options);
  };

  /** Stops renewing; leases still held expire on their own. */
  close(): void {
    clearInterval(this.renewTimer);
    this.offCircuit();
  }

  private admission(provider: string, options: GateOptions): SharedAdmission {
    const leases = leasesKey(this.prefix, provider);
    const breaker = breakerKey(this.prefix, provider);
    return {
      acquire: async (signal) => {
        const lease = randomUUID();
        let wait = MIN_WAIT_MS;
        for (;;) {
          if (signal.aborted) throw abortError(provider, signal);
          const got = Number(
            await this.redis.eval(ACQUIRE, 2, leases, breaker, options.maxConcurrency, this.leaseMs, lease),
          );
          if (got === -1) throw new CircuitOpenError(provider, options.recoveryTimeoutMs);
          if (got === 1) break;
          await sleep(wait * (0.5 + Math.random()), undefined, { signal }).catch(() => {});
          wait = Math.min(MAX_WAIT_MS, wait * 2);
        }
        this.hold(provider, lease);
        return () => {
          this.held.get(provider)?.delete(lease);
          this.redis.zrem(leases, lease).catch(() => {}); // else it expires with its lease
        };
      },
    };
  }

  private hold(provider: string, lease: string): void {
    let set = this.held.get(provider);
    if (!set) {
      set = new Set();
      this.held.set(provider, set);
    }
    set.add(lease);
  }

  private async renew(): Promise<void> {
    for (const [provider, leases] of this.held) {
      if (leases.size === 0) continue;
      await this.redis.eval(RENEW, 1, leasesKey(this.prefix, provider), ...leases, this.leaseMs).catch(() => {}); // Redis away: the leases may lapse; calls already admitted go on
    }
  }
}
