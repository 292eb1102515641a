// Cluster-wide budgets: a run's `max_cost_usd` / `max_tokens` hold for every worker together — the
// run's worker and the workers running chunks of its batches — as BudgetGuard holds them on one
// machine: a call is refused when what the run has spent, plus the worst cases of every call in
// flight on any worker, plus its own worst case could pass a limit.
//
// One ledger per run in Redis: a hash of what was spent and what is held, a sorted set of the
// reservations in flight scored by their expiry (Redis server time), and their amounts beside it.
// Reserve, and settle (commit a finished call's real usage, or release one that failed: a commit
// of nothing), are one Lua script each, so two workers never both take the last of a budget. A
// live worker renews its reservations every LEASE_MS / 3; a worker that dies stops renewing, and
// its reservations give their worst case back when they expire — its calls' results were never
// journaled, so nothing they did is counted anywhere. A commit whose reservation expired meanwhile
// still counts what the call spent.
//
// The ledger starts from the journal: the run's worker raises it to at least the journal's totals at
// the start of every attempt (a resumed run keeps what it spent, on a worker or on one machine);
// a chunk worker that finds no ledger (Redis lost it, or it expired after LEDGER_TTL_MS unused)
// seeds it from the journal. Limits travel with each call, so a resume with a larger --max-cost
// applies at once. Commits and releases are not awaited: they are sent on the connection the next
// reserve of this worker uses, so that reserve sees them; another worker sees a commit one round
// trip later, and until then the call's reservation — its worst case — still counts.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type BudgetReservation, type BudgetSpent, costRefusal, tokenRefusal } from '../budget/budget-guard.js';
import { estimateUsage } from '../budget/estimate.js';
import type { RunBudget, SharedBudgetFactory, SharedBudgetOpening } from '../budget/run-budget.js';
import type { ModelRequest } from '../providers/provider.js';
import { LEASE_MS } from './shared-gates.js';

/** How long a ledger outlives its run's last call; after that it is seeded from the journal again. */
export const LEDGER_TTL_MS = 7 * 24 * 3600 * 1000;

// Lua numbers are doubles, like JavaScript's: sums are computed there and written with 17
// significant digits, so a ledger adds up exactly as BudgetGuard would.
const READ_LEDGER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local l = redis.call('HMGET', KEYS[1], 'cost', 'tokens', 'rcost', 'rtokens')
local cost, tokens = tonumber(l[1]) or 0, tonumber(l[2]) or 0
local rcost, rtokens = tonumber(l[3]) or 0, tonumber(l[4]) or 0
local floorCost, floorTokens = tonumber(ARGV[1]), tonumber(ARGV[2])
if floorCost > cost then cost = floorCost end
if floorTokens > tokens then tokens = floorTokens end
local function fmt(x) return string.format('%.17g', x) end
local function unhold(id)
  local amount = redis.call('HGET', KEYS[3], id)
  if not amount then return false end
  local c, k = string.match(amount, '^(%S+) (%S+)$')
  rcost = rcost - tonumber(c)
  rtokens = rtokens - tonumber(k)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
  return true
end
-- what is held is the sum of the reservations left (reset with the last one: no rounding residue)
local function tidyHeld()
  if redis.call('ZCARD', KEYS[2]) == 0 then rcost, rtokens = 0, 0 end
  rcost, rtokens = math.max(0, rcost), math.max(0, rtokens)
end
local function save(ttl)
  tidyHeld()
  redis.call('HSET', KEYS[1], 'cost', fmt(cost), 'tokens', fmt(tokens), 'rcost', fmt(rcost), 'rtokens', fmt(rtokens))
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
-- reservations nobody renewed (their worker died) give their worst case back
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #expired do unhold(expired[i]) end
tidyHeld()
`;

// KEYS: ledger, reservations (zset id → expiry), amounts (hash id → "cost tokens").
// ARGV: floor cost, floor tokens (-1: none known), max cost, max tokens (-1: no limit), the call's
// cost and tokens, its id, lease ms, ledger ttl ms.
// Returns {'seed'} when there is no ledger and no floor; else {verdict, spent cost, spent tokens,
// held cost, held tokens} — the held amounts as they were before this call (for the refusal).
const RESERVE = `
if tonumber(ARGV[1]) < 0 and redis.call('EXISTS', KEYS[1]) == 0 then return {'seed'} end
${READ_LEDGER}
local maxCost, maxTokens = tonumber(ARGV[3]), tonumber(ARGV[4])
local callCost, callTokens = tonumber(ARGV[5]), tonumber(ARGV[6])
local verdict = 'ok'
if maxCost >= 0 and cost + rcost + callCost > maxCost then verdict = 'cost'
elseif maxTokens >= 0 and tokens + rtokens + callTokens > maxTokens then verdict = 'tokens' end
local heldCost, heldTokens = rcost, rtokens
if verdict == 'ok' then
  rcost = rcost + callCost
  rtokens = rtokens + callTokens
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[8]), ARGV[7])
  redis.call('HSET', KEYS[3], ARGV[7], ARGV[5] .. ' ' .. ARGV[6])
end
save(tonumber(ARGV[9]))
return {verdict, fmt(cost), fmt(tokens), fmt(heldCost), fmt(heldTokens)}`;

// KEYS: as RESERVE. ARGV: floor cost, floor tokens (-1: none known), the reservation's id, the cost
// and tokens spent (0 0: a release), ledger ttl ms. Returns {spent cost, spent tokens}, or {} when
// there is no ledger to settle on and no floor to start one from.
const SETTLE = `
if tonumber(ARGV[1]) < 0 and redis.call('EXISTS', KEYS[1]) == 0 then return {} end
${READ_LEDGER}
unhold(ARGV[3])
cost = cost + tonumber(ARGV[4])
tokens = tokens + tonumber(ARGV[5])
save(tonumber(ARGV[6]))
return {fmt(cost), fmt(tokens)}`;

// KEYS: reservations. ARGV: ids…, lease ms. Only reservations still held are renewed (XX).
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[#ARGV])
for i = 1, #ARGV - 1 do redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i]) end
return 1`;

export function budgetKeys(prefix: string, runId: string): [string, string, string] {
  const base = `${prefix}:budget:${runId}`;
  return [base, `${base}:reservations`, `${base}:amounts`];
}

/** A reservation in a shared ledger: the id names it in Redis. */
interface SharedReservation extends BudgetReservation {
  id: string;
}

/** Sent for a floor not known yet, and for a limit not set. */
const NO_FLOOR = -1;
const NO_LIMIT = -1;

export class SharedBudgets {
  /** Reservations held by this process, by ledger (its reservations key): renewed until settled. */
  private readonly held = new Map<string, Set<string>>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs = LEASE_MS,
    private readonly ttlMs = LEDGER_TTL_MS,
  ) {
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** The factory the engine (the run's worker) and the item runner (chunk workers) open budgets with. */
  readonly factory: SharedBudgetFactory = (opening) => this.open(opening);

  /** Stops renewing: reservations still held expire on their own. */
  close(): void {
    clearInterval(this.renewTimer);
  }

  private open({ runId, limits, price, journaled }: SharedBudgetOpening): RunBudget {
    const keys = budgetKeys(this.prefix, runId);
    const known = typeof journaled === 'function' ? undefined : journaled;
    let spent: BudgetSpent = known ?? { costUsd: 0, tokens: 0 };
    // What the ledger is raised to: known from the start, or read from the journal once, when needed.
    let floor = known;
    let seeding: Promise<BudgetSpent> | undefined;
    const floorArgs = () => (floor ? [floor.costUsd, floor.tokens] : [NO_FLOOR, NO_FLOOR]);
    const seed = async (): Promise<BudgetSpent> => {
      if (typeof journaled !== 'function') return journaled;
      seeding ??= journaled();
      return seeding.catch((error: unknown) => {
        seeding = undefined; // asked again by the next call
        throw error;
      });
    };

    const reserve = async (request: ModelRequest, step: string, callPrice = price): Promise<BudgetReservation> => {
      const usage = estimateUsage(request);
      const tokens = usage.inputTokens + usage.outputTokens;
      const costUsd = callPrice(request.provider, request.model, usage) ?? 0;
      const id = randomUUID();
      const limitArgs = [limits.maxCostUsd ?? NO_LIMIT, limits.maxTokens ?? NO_LIMIT];
      for (;;) {
        const reply = (await this.redis.eval(
          RESERVE,
          3,
          ...keys,
          ...floorArgs(),
          ...limitArgs,
          costUsd,
          tokens,
          id,
          this.leaseMs,
          this.ttlMs,
        )) as string[];
        if (reply[0] === 'seed') {
          floor = await seed();
          continue;
        }
        const [, cost, used, heldCost, heldTokens] = reply.map(Number);
        spent = { costUsd: cost as number, tokens: used as number };
        if (reply[0] === 'cost') {
          const limit = limits.maxCostUsd as number;
          throw costRefusal(step, request, {
            spent: spent.costUsd,
            inFlight: heldCost as number,
            limit,
            call: costUsd,
          });
        }
        if (reply[0] === 'tokens') {
          const limit = limits.maxTokens as number;
          throw tokenRefusal(step, request, {
            spent: spent.tokens,
            inFlight: heldTokens as number,
            limit,
            call: tokens,
          });
        }
        this.hold(keys[1], id);
        const reservation: SharedReservation = { costUsd, tokens, id };
        return reservation;
      }
    };

    const settle = (reservation: BudgetReservation, costUsd: number, tokens: number): void => {
      const { id } = reservation as SharedReservation;
      this.held.get(keys[1])?.delete(id);
      this.redis
        .eval(SETTLE, 3, ...keys, ...floorArgs(), id, costUsd, tokens, this.ttlMs)
        .then((reply) => {
          const [cost, used] = reply as string[];
          if (cost !== undefined) spent = { costUsd: Number(cost), tokens: Number(used) };
        })
        // Redis gone for good (ioredis waits out outages): the reservation expires with its lease,
        // and this call is missing from the ledger — not from the journal.
        .catch(() => {});
    };

    return {
      limits,
      get spent() {
        return spent;
      },
      reserve,
      // An unpriced call is not counted against max_cost_usd (its tokens are), as on one machine.
      commit: (reservation, usage, costUsd) =>
        settle(reservation, costUsd ?? 0, usage.inputTokens + usage.outputTokens),
      release: (reservation) => settle(reservation, 0, 0),
    };
  }

  private hold(reservations: string, id: string): void {
    let set = this.held.get(reservations);
    if (!set) {
      set = new Set();
      this.held.set(reservations, set);
    }
    set.add(id);
  }

  private async renew(): Promise<void> {
    for (const [reservations, ids] of this.held) {
      if (ids.size === 0) {
        this.held.delete(reservations);
        continue;
      }
      // Redis away: the reservations may lapse; the calls already admitted go on.
      await this.redis.eval(RENEW, 1, reservations, ...ids, this.leaseMs).catch(() => {});
    }
  }
}
