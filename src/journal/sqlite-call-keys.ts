// Which call records the SQLite journal may hold, answered from memory. Most calls of a run are
// new: without this, each one's cache lookup is a read transaction and a b-tree descent in SQLite
// for nothing — 5 to 8 µs per call, the largest cost of a call after the step's own commit
// (measured, bench/README.md). With it, a miss costs a Bloom-filter probe; every CHECK_EVERY_MS
// at most, it asks SQLite whether another connection has written (a read of its own: 2–3 µs, as
// much as the lookup it saves, so not per call) and then reads the keys that connection added.
//
// What it may get wrong, and what that costs: "may have" when the journal has not (~0.6 % of misses,
// then SQLite answers as before); never "has not" for a key this connection wrote or the journal
// held when the filter was built. A record another process commits is seen here within
// CHECK_EVERY_MS (its own cache writes behind by up to 200 ms anyway). Keys are read back by rowid:
// records are appended (rowids only grow — the journal never deletes a call record), so the rows
// past the last one read are exactly the new ones, however late their writer committed them.
import type Database from 'better-sqlite3';
import { KeyFilter } from './key-filter.js';

/** How often at most SQLite is asked whether another connection has written. */
export const CHECK_EVERY_MS = 200;
/**
 * Building the filter reads every key (~1 µs each); a lookup in SQLite costs ~5. So the filter is
 * built once a process has made a fifth as many lookups as the table has records: a short run on a
 * journal of a million cached calls does not pay a second for the scan, a long one pays for it at
 * most twice what the best choice in hindsight would have cost.
 */
const KEYS_SCANNED_PER_LOOKUP = 5;

export class SqliteCallKeys {
  private filter?: KeyFilter;
  private version = -1;
  /** The last rowid read: the rows past it are read when another connection has written. */
  private seenId = 0;
  /** When SQLite was last asked (performance.now()). */
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** Lookups answered by SQLite before the filter is built (see KEYS_SCANNED_PER_LOOKUP). */
  private lookupsBeforeBuild?: number;
  private readonly stmts;

  constructor(
    db: Database.Database,
    /** Commits this connection's queued writes, so that a scan sees every key it was given. */
    private readonly flushWrites: () => void,
  ) {
    this.stmts = {
      // Bumped by every commit of another connection (not by this one's).
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      // Records ever appended (rowids are not reused while the last one stays): an O(log n) bound
      // on how many there are — enough to size the filter and to decide when it is worth building.
      appended: db.prepare('SELECT coalesce(max(id), 0) FROM calls').pluck(),
      all: db.prepare('SELECT id, key FROM calls').raw(),
      since: db.prepare('SELECT id, key FROM calls WHERE id > ?').raw(),
    };
  }

  /** False when the journal certainly has no call record under `key`. */
  mayHave(key: string): boolean {
    if (!this.filter) {
      this.lookupsBeforeBuild ??= Math.floor((this.stmts.appended.get() as number) / KEYS_SCANNED_PER_LOOKUP);
      if (this.lookupsBeforeBuild > 0) {
        this.lookupsBeforeBuild--;
        return true; // SQLite answers this one
      }
    }
    const at = performance.now();
    if (!this.filter || at - this.checkedAt >= CHECK_EVERY_MS) {
      this.checkedAt = at;
      const version = this.stmts.dataVersion.get() as number;
      if (!this.filter) this.build(version);
      else if (version !== this.version) this.catchUp(version);
    }
    return (this.filter as KeyFilter).mayHave(key);
  }

  /** Keys this connection is writing (called as the write is queued). */
  add(keys: readonly string[]): void {
    if (!this.filter) return; // built from the table when first needed
    if (this.filter.full) this.build(this.stmts.dataVersion.get() as number);
    for (const key of keys) this.filter?.add(key);
  }

  private build(version: number): void {
    this.flushWrites();
    const filter = new KeyFilter(this.stmts.appended.get() as number);
    let seenId = 0;
    for (const [id, key] of this.stmts.all.iterate() as IterableIterator<[number, string]>) {
      filter.add(key);
      if (id > seenId) seenId = id;
    }
    this.filter = filter;
    this.version = version;
    this.seenId = seenId;
  }

  private catchUp(version: number): void {
    const filter = this.filter as KeyFilter;
    for (const [id, key] of this.stmts.since.iterate(this.seenId) as IterableIterator<[number, string]>) {
      filter.add(key);
      if (id > this.seenId) this.seenId = id;
    }
    this.version = version;
    if (filter.full) this.build(version);
  }
}
