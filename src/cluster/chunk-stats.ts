// What every delivery of a chunk of batch items counted of the items it journaled — their calls,
// retries, cache hits and savings — kept in Redis beside the chunk's job, one field per delivery.
// A delivery reports (as its job's return value, which the batch's parent adds up) the sum of
// every field: a chunk delivered again (its worker died, or lost its lock mid-chunk) finds the
// items its first delivery journaled done and runs none of them, and that delivery's own report was
// lost with it. The journal's item rows keep an item's calls, tokens and cost, not its retries,
// cache hits or savings: without this, the first delivery's were missing from the batch step's
// details and the run's totals (20 retries shown for 30 items that each retried once).
import type { Redis } from 'ioredis';
import { BATCH_CANCEL_TTL_S, type ItemChunkResult, sumChunkResults } from './item-queue.js';

/** As long as a chunk may wait in a queue backlog to be delivered again. */
const CHUNK_STATS_TTL_S = BATCH_CANCEL_TTL_S;

export function chunkStatsKey(prefix: string, chunkJobId: string): string {
  return `${prefix}:chunk-stats:${chunkJobId}`;
}

/** One delivery's field in its chunk's ledger. */
export class ChunkStats {
  private readonly key: string;
  /** Counts not yet written: only the latest matters (each holds all the delivery's so far). */
  private latest?: ItemChunkResult;
  private writing?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    chunkJobId: string,
    /** Names this delivery's field: its job token, unique per delivery. */
    private readonly delivery: string,
  ) {
    this.key = chunkStatsKey(prefix, chunkJobId);
  }

  /**
   * This delivery's counts so far, of items journaled: written in the background, one write at a
   * time (Redis away: one pending write, not one per commit, waits for it). A lost write is only
   * this delivery's counts since its last one, should it die before its end writes them again.
   */
  record(stats: ItemChunkResult): void {
    this.latest = { ...stats };
    this.writing ??= this.drain();
  }

  /** This delivery's final counts written; the sum over every delivery of the chunk. */
  async total(own: ItemChunkResult): Promise<ItemChunkResult> {
    this.latest = undefined;
    await this.writing;
    try {
      await this.write(own);
      const fields = await this.redis.hvals(this.key);
      return sumChunkResults(fields.map((field) => JSON.parse(field) as ItemChunkResult));
    } catch {
      return own; // the ledger unreadable: this delivery's own counts, as before there was one
    }
  }

  private async drain(): Promise<void> {
    for (let next = this.latest; next; next = this.latest) {
      this.latest = undefined;
      await this.write(next).catch(() => {});
    }
    this.writing = undefined;
  }

  private async write(stats: ItemChunkResult): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key, this.delivery, JSON.stringify(stats))
      .expire(this.key, CHUNK_STATS_TTL_S)
      .exec();
  }
}

/** Forgets the ledgers of a batch's chunks once the batch's parent has added their reports up. */
export async function forgetChunkStats(redis: Redis, prefix: string, chunkJobIds: string[]): Promise<void> {
  if (chunkJobIds.length > 0) await redis.del(...chunkJobIds.map((id) => chunkStatsKey(prefix, id)));
}
