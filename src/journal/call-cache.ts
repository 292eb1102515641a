// The response cache: an in-memory LRU (bounded) in front of the journal's call records.
// A record answers while it is younger than the reader's TTL (`cache: { ttl }`, default 1 h) and
// has not passed its own expiry; `cache: false` turns the lookup off for a step.
// Hits and the cost they saved are counted here for the process; the model caller reports them
// per call so that the engine can roll them up per run.
import { parseDuration } from '../config/duration.js';
import type { Cache } from '../config/schema.js';
import type { ModelRequest, ModelResponse, Usage } from '../providers/provider.js';
import { type CallBill, type CallRecord, MAX_CALL_BILLS, type Store } from './store.js';

export const DEFAULT_CACHE_TTL_MS = 3_600_000;
export const DEFAULT_CACHE_ENTRIES = 1000;

/** The TTL a step reads and writes with: its `cache:` over `defaults.cache:`; false turns the cache off. */
export function resolveCacheTtl(step?: Cache, defaults?: Cache): number | false {
  const setting = step ?? defaults;
  if (setting === false) return false;
  if (setting === undefined || setting === true || setting.ttl === undefined) return DEFAULT_CACHE_TTL_MS;
  return parseDuration(setting.ttl);
}

export interface CallCacheOptions {
  maxEntries?: number;
  now?: () => number;
}

export interface CachedCall {
  key: string;
  provider: string;
  model: string;
  request: ModelRequest;
  response: ModelResponse;
  usage: Usage;
  costUsd: number | null;
  /** Who paid for the answer (CallRecord.paidBy). */
  paidBy?: string;
  /** The bills the lookup before the call found under its key (CallRecord.bills): kept in memory. */
  bills?: CallBill[];
}

/** A call whose answer no record keeps, as CallCache.putBill is told it. */
export interface BilledCall {
  key: string;
  provider: string;
  model: string;
  request: ModelRequest;
  /** The answer its caller rejected; null: the call failed (its billed attempts are the bill). */
  response: ModelResponse | null;
}

/**
 * What a lookup found under a key that has no answer for the reader — only the bills of calls
 * whose answers no record keeps (CallRecord.bills): a rejected answer is never served.
 */
export interface BillsOnly {
  billsOnly: true;
  bills: CallBill[];
}

/**
 * Call records buffered before one journal transaction writes them all. Their keys are content
 * hashes, so a batch lands all over the table's b-tree: larger batches share more pages (a batch of
 * 64 wrote about one 4 KB page per record on a young journal; 512 write far fewer).
 */
const WRITE_BATCH = 512;
/** How long a call record may wait to be written behind. */
export const WRITE_BEHIND_MS = 200;

export class CallCache {
  private readonly memory = new Map<string, CallRecord>();
  /**
   * Records not yet in the journal. Call records are a cache, not the run's durable state (that
   * is the step and item journal, committed before anything sees a result), so they are written
   * behind, batched: one write per 200 ms or per 512 calls instead of one per call (a sequential run
   * would otherwise add a row to every step's commit). A crash loses at most the last batch of
   * cache entries — a later identical call pays again, nothing more.
   */
  private pending = new Map<string, CallRecord>();
  private flushScheduled = false;
  private readonly maxEntries: number;
  private readonly now: () => number;
  hits = 0;
  misses = 0;
  costSavedUsd = 0;

  constructor(
    private readonly store?: Pick<Store, 'getCall' | 'putCall'> &
      Partial<Pick<Store, 'putCalls' | 'mayHaveCall' | 'putBill'>>,
    options: CallCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_CACHE_ENTRIES);
    this.now = options.now ?? Date.now;
  }

  /**
   * True, and the miss counted, when no record for `key` can answer: none in memory nor waiting to be
   * written, and the journal certainly holds none (Store.mayHaveCall). Most calls of a run are new;
   * answered here, they skip `get` and its promises (a turn of the event loop's microtasks each).
   * False: ask `get`.
   */
  certainMiss(key: string): boolean {
    if (this.memory.has(key) || this.pending.has(key)) return false;
    if (this.store) {
      let mayHave: boolean | undefined;
      try {
        mayHave = this.store.mayHaveCall?.(key);
      } catch {
        return false; // a journal that cannot answer: `get` asks it, and its caller reports why
      }
      if (mayHave !== false) return false;
    }
    this.misses++;
    return true;
  }

  /**
   * The recorded call for `key`, if one younger than `ttlMs` exists; counts the hit and its saved
   * cost. It reads the journal: ask `certainMiss` first, which answers most misses from memory.
   */
  async get(key: string, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<CallRecord | undefined> {
    const found = await this.lookup(key, ttlMs);
    return found === undefined || 'billsOnly' in found ? undefined : found;
  }

  /**
   * As `get` — and, with no answer but bills under the key (CallRecord.bills, which never go stale),
   * those bills alone (a miss): what the model caller asks.
   */
  async lookup(key: string, ttlMs = DEFAULT_CACHE_TTL_MS): Promise<CallRecord | BillsOnly | undefined> {
    const now = this.now();
    let record = this.memory.get(key);
    // A record that answers nothing now but keeps bills (a bill's own record expired at once).
    let billed: CallRecord | undefined;
    if (record && !fresh(record, now, ttlMs)) {
      // Kept while it holds bills: a cache without a journal has them nowhere else.
      if (record.bills === undefined) this.memory.delete(key);
      else billed = record;
      record = undefined;
    }
    // Evicted from memory but not yet written behind: still an answer.
    if (!record) record = this.pending.get(key);
    if (record && !fresh(record, now, ttlMs)) record = undefined;
    if (!record && this.store) {
      const stored = await this.store.getCall(key, now);
      if (stored && fresh(stored, now, ttlMs)) record = stored;
      // The journal's bills are all of them (putBill writes through): other processes' too.
      else if (stored?.bills !== undefined) billed = stored;
    }
    if (!record) {
      this.misses++;
      return billed?.bills === undefined ? undefined : { billsOnly: true, bills: billed.bills };
    }
    this.remember(record);
    this.hits++;
    this.costSavedUsd += record.costUsd ?? 0;
    return record;
  }

  /**
   * Records a finished call, in memory and in the journal, answering for `ttlMs` from now. The record
   * at once, or — when it fills a batch to write — a promise of it once written: most calls' records
   * wait for the next write behind, and a promise for each would cost a call a turn of microtasks.
   */
  put(call: CachedCall, ttlMs = DEFAULT_CACHE_TTL_MS): CallRecord | Promise<CallRecord> {
    const createdAt = this.now();
    const record = recordOf(call, call.usage, call.costUsd, createdAt, createdAt + ttlMs);
    if (call.paidBy !== undefined) record.paidBy = call.paidBy;
    // Memory only: the journal keeps the key's bills whatever answer is written over them.
    if (call.bills !== undefined) record.bills = call.bills;
    this.remember(record);
    if (!this.store) return record;
    this.pending.set(record.key, record);
    if (this.pending.size >= WRITE_BATCH) return this.flush().then(() => record);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // unref: a process about to exit flushes through the engine (run end), not through a timer.
      setTimeout(() => {
        this.flush().catch((error: unknown) => {
          process.emitWarning(`call cache: writing to the journal failed: ${(error as Error).message}`);
        });
      }, WRITE_BEHIND_MS).unref();
    }
    return record;
  }

  /**
   * Records the bill of a paid call whose answer is not kept — a rejected answer (`call.response`),
   * a call failed after billed attempts (null) — under its key: added to the key's record in memory
   * (a record of bills alone if it had none, which answers nothing, with `seen`: the bills the call's
   * lookup found) and written to the journal at once, not behind. Resolves once it is durable: the
   * step that paid may have no journaled row to carry it when a crash comes.
   */
  async putBill(call: BilledCall, bill: CallBill, seen?: CallBill[]): Promise<void> {
    const createdAt = this.now();
    // Expired as it is made: it answers nothing, it only keeps the bills.
    const record = recordOf(call, bill.usage, bill.costUsd, createdAt, createdAt);
    record.paidBy = bill.paidBy;
    const held = this.memory.get(call.key);
    const earlier = held?.bills ?? seen ?? [];
    const bills = [...earlier.slice(Math.max(0, earlier.length - MAX_CALL_BILLS + 1)), bill];
    this.remember(held ? { ...held, bills } : { ...record, bills });
    await this.store?.putBill?.(record, bill);
  }

  /** Writes every buffered record to the journal (the engine calls it when a run ends). */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    if (!this.store || this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    if (this.store.putCalls) await this.store.putCalls(batch);
    else for (const record of batch) await this.store.putCall(record);
  }

  get size(): number {
    return this.memory.size;
  }

  // Map keeps insertion order: re-inserting makes an entry the most recent; the first is the least.
  private remember(record: CallRecord): void {
    this.memory.delete(record.key);
    this.memory.set(record.key, record);
    while (this.memory.size > this.maxEntries) {
      const oldest = this.memory.keys().next().value;
      if (oldest === undefined) break;
      this.memory.delete(oldest);
    }
  }
}

function fresh(record: CallRecord, now: number, ttlMs: number): boolean {
  if (record.expiresAt !== null && record.expiresAt <= now) return false;
  return record.createdAt + ttlMs > now;
}

/** The record of a call (its key, provider, model, request and answer) with its cost and lifetime. */
function recordOf(
  call: Pick<CallRecord, 'key' | 'provider' | 'model' | 'request' | 'response'>,
  usage: Usage,
  costUsd: number | null,
  createdAt: number,
  expiresAt: number,
): CallRecord {
  return {
    key: call.key,
    provider: call.provider,
    model: call.model,
    request: call.request,
    response: call.response,
    usage,
    costUsd,
    createdAt,
    expiresAt,
  };
}
