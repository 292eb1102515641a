// Cluster-wide provider gates: a gate's max_concurrency holds for every worker together, and a
// breaker that opens on one worker is seen by all.
//
// The semaphore is a sorted set of leases scored by their expiry (Redis server time), taken and
// counted in one Lua script: a worker that dies holding slots loses them when their leases expire
// (LEASE_MS); a live worker renews its leases every LEASE_MS / 3. A breaker that opens locally is
// written to a key that lives for the recovery timeout; while it exists every worker fails fast
// (CircuitOpenError) without calling the provider. The local bulkhead and breaker stay in place:
// the shared slot is asked for inside them, right before the call.
//
// One gate, one set of keys. The GateRegistry builds a gate per provider name, endpoint and
// settings (gate-key.ts) and names it with a `gateId` that every worker computes alike from the
// pipeline, so the keys are `<prefix>:gate:<name>:<gateId>:leases` and `…:breaker`: a pipeline's
// `max_concurrency: 2` and another's `20` for `anthropic` count their own leases, and a breaker
// opened by one base_url does not fail the calls to another. The same configuration on every worker
// has the same id, hence one lease set. A caller that gives no id gets the per-name keys of before
// (`<prefix>:gate:<name>:leases`), shared by every configuration of the name.
//
// What this process keeps of a gate is its admission's, which its ProviderGate holds: the registry
// lets idle gates of pipelines' own names go (gate-registry.ts), and with them goes all of it. Only
// a gate with leases in hand is tracked here (its leases are renewed), until its last is released —
// so a long-lived worker keeps nothing for each configuration it ever ran (a server's inline
// pipelines may declare a new one per request), only for the calls in flight. (It used to keep one
// entry per configuration for the life of the process.)
//
// A rolling upgrade (or a change to what gate-key.ts hashes) moves a gate to other keys: workers of
// the old and the new version do not see each other's leases, so for as long as both run a gate may
// have up to its limit in flight on each side, and a breaker opened on one side is not seen by the
// other (its workers open their own after a few faults). Nothing waits on the old keys: no new
// worker reads them, and the leases held there by old workers expire on their own (LEASE_MS after
// their worker stops renewing them; the set itself PEXPIREs after 2 × LEASE_MS), as the breaker
// mark does after its recovery timeout. A lease is never waited for beyond its expiry, since the
// Lua script drops expired leases before counting: no key left behind can deadlock a gate.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { abortError } from '../resilience/abort.js';
import { CircuitOpenError, type CircuitStateName } from '../resilience/circuit-breaker.js';
import type { GateOptions } from '../resilience/gate-options.js';
import type { SharedAdmissionFactory } from '../resilience/gate-registry.js';
import type { SharedAdmission } from '../resilience/provider-gate.js';

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

/**
 * Where one gate's state lives: `<prefix>:gate:anthropic:<gateId>`, or `<prefix>:gate:anthropic` for a
 * caller that gives no gate id (every configuration of the name then shares it, as before gate ids).
 * Provider names are identifiers (no `:`), so the two forms never collide.
 */
function gatePath(prefix: string, provider: string, gateId?: string): string {
  return gateId ? `${prefix}:gate:${provider}:${gateId}` : `${prefix}:gate:${provider}`;
}

export function leasesKey(prefix: string, provider: string, gateId?: string): string {
  return `${gatePath(prefix, provider, gateId)}:leases`;
}

export function breakerKey(prefix: string, provider: string, gateId?: string): string {
  return `${gatePath(prefix, provider, gateId)}:breaker`;
}

/** One gate's shared state in this process: its keys, and the leases it holds (renewed until released). */
interface SharedGate {
  provider: string;
  leases: string;
  breaker: string;
  recoveryMs: number;
  held: Set<string>;
}

export class SharedGates {
  /** The gates holding leases now: the only ones the renewal visits, and the only ones kept here. */
  private readonly holding = new Set<SharedGate>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs = LEASE_MS,
  ) {
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** The factory the GateRegistry asks for each gate's shared admission, keyed by `gateId` when given. */
  readonly factory: SharedAdmissionFactory = (provider, options, gateId) => {
    if (options.maxConcurrency >= UNBOUNDED) return undefined;
    // Not remembered here: the admission (its ProviderGate) holds it, and it goes with that gate.
    const gate: SharedGate = {
      provider,
      leases: leasesKey(this.prefix, provider, gateId),
      breaker: breakerKey(this.prefix, provider, gateId),
      recoveryMs: options.recoveryTimeoutMs,
      held: new Set(),
    };
    return this.admission(gate, options);
  };

  /** How many gates this process keeps state for: those holding leases (calls in flight). */
  get trackedGates(): number {
    return this.holding.size;
  }

  /** Stops renewing; leases still held expire on their own. */
  close(): void {
    clearInterval(this.renewTimer);
  }

  /** The gate's own breaker changed state: written where the other workers look for that gate's. */
  private mark(gate: SharedGate, state: CircuitStateName): void {
    const write =
      state === 'open' ? this.redis.set(gate.breaker, 'open', 'PX', gate.recoveryMs) : this.redis.del(gate.breaker);
    write.catch(() => {}); // a lost breaker notice costs the others a few failed calls, not a run
  }

  private admission(gate: SharedGate, options: GateOptions): SharedAdmission {
    const { provider, leases, breaker, held } = gate;
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
        held.add(lease);
        this.holding.add(gate);
        return () => {
          held.delete(lease);
          if (held.size === 0) this.holding.delete(gate);
          this.redis.zrem(leases, lease).catch(() => {}); // else it expires with its lease
        };
      },
      circuit: (state) => this.mark(gate, state),
    };
  }

  private async renew(): Promise<void> {
    for (const { leases, held } of this.holding) {
      await this.redis.eval(RENEW, 1, leases, ...held, this.leaseMs).catch(() => {}); // Redis away: the leases may lapse; calls already admitted go on
    }
  }
}
