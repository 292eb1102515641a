// Ordered, append-only: migration N upgrades schema version N to N+1. Never edit a shipped one.
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline_name TEXT NOT NULL,
    pipeline_file TEXT,
    pipeline_hash TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    inputs TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    failed_step TEXT,
    outputs TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    totals TEXT NOT NULL,
    metadata TEXT NOT NULL
  );
  CREATE INDEX runs_started ON runs (started_at);
  CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    cost_usd REAL,
    duration_ms REAL NOT NULL,
    attempts INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    details TEXT,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE items (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    cost_usd REAL,
    attempts INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    PRIMARY KEY (run_id, step_key, idx)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE calls (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    usage TEXT NOT NULL,
    cost_usd REAL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  ) WITHOUT ROWID;
  `,
  // 2: a commit's events of one run in one row (a JSON array of [seq, type, at, data]) instead of a
  // row each: a step's four events cost one insert, not four.
  `
  CREATE TABLE event_batches (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (run_id, first_seq)
  ) WITHOUT ROWID;
  INSERT INTO event_batches (run_id, first_seq, last_seq, events)
    SELECT run_id, seq, seq, json_array(json_array(seq, type, at, json(data))) FROM events;
  DROP TABLE events;
  `,
  // 3: the events committed with a step ride in the step's row (sqlite-event-log.ts).
  `
  ALTER TABLE steps ADD COLUMN events TEXT;
  ALTER TABLE steps ADD COLUMN events_first INTEGER;
  ALTER TABLE steps ADD COLUMN events_last INTEGER;
  `,
  // 4: a step row written again (a resumed step) or deleted (resume --force) hands the events it
  // carried to event_batches first: no event is ever overwritten or dropped. Triggers, so that an
  // ordinary step commit (an insert) pays nothing for it.
  `
  CREATE TRIGGER steps_keep_events_on_update BEFORE UPDATE OF events ON steps WHEN old.events IS NOT NULL
  BEGIN
    INSERT INTO event_batches (run_id, first_seq, last_seq, events)
      VALUES (old.run_id, old.events_first, old.events_last, old.events);
  END;
  CREATE TRIGGER steps_keep_events_on_delete BEFORE DELETE ON steps WHEN old.events IS NOT NULL
  BEGIN
    INSERT INTO event_batches (run_id, first_seq, last_seq, events)
      VALUES (old.run_id, old.events_first, old.events_last, old.events);
  END;
  `,
  // 5: the call records another connection added since a time (sqlite-call-keys.ts reads them).
  `
  CREATE INDEX calls_created ON calls (created_at);
  `,
  // 6: call records in insertion order, found through a unique index on their key. Keyed by a
  // content hash, the WITHOUT ROWID table took every batch of records at random places of its
  // b-tree: twice the cost per record once it held 50,000 (bench/README.md); now the rows are
  // appended and only the small index entries land at random.
  `
  CREATE TABLE calls_by_insertion (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    usage TEXT NOT NULL,
    cost_usd REAL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  );
  INSERT INTO calls_by_insertion (key, provider, model, request, response, usage, cost_usd, created_at, expires_at)
    SELECT key, provider, model, request, response, usage, cost_usd, created_at, expires_at FROM calls ORDER BY created_at;
  DROP TABLE calls;
  ALTER TABLE calls_by_insertion RENAME TO calls;
  CREATE INDEX calls_created ON calls (created_at);
  `,
  // 7: the write-ahead logs of the processes writing this journal (write-behind.ts): how far into each
  // has been applied to the tables, and whose it is.
  `
  CREATE TABLE journal_logs (
    name TEXT PRIMARY KEY,
    applied INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 8: what each batch item called, kept with it as its tokens and cost are — the run's `calls` total
  // is derived from the items, not from what a batch (or a cluster chunk delivered twice) counted;
  // and what the steps `resume --force` forgot had spent (a RunTotals document; NULL: nothing
  // forgotten): their rows go, the money stays paid (Store.deleteSteps). A column, not the run's
  // metadata: it is written in the deletion's own transaction, and metadata is what claimRun compares.
  `
  ALTER TABLE items ADD COLUMN calls INTEGER;
  ALTER TABLE runs ADD COLUMN forgotten_spend TEXT;
  `,
  // 9: how many of an item's calls had no price. Its cost is then the known part, not NULL, so
  // `cost_usd IS NULL` alone missed them (a priced call, then an unpriced fallback). NULL: none, or
  // an item journaled before — counted as one when its cost is NULL (itemTotals).
  `
  ALTER TABLE items ADD COLUMN unpriced_calls INTEGER;
  `,
  // 10: who paid for a call's answer (CallRecord.paidBy): a run restarted after a crash that finds
  // its own step's answer in the cache counts its cost as paid, not as a saving.
  `
  ALTER TABLE calls ADD COLUMN paid_by TEXT;
  `,
  // 11: another connection's new call records are read back by rowid (sqlite-call-keys.ts), not by
  // `created_at`: the index on it was one more b-tree insert per call record (~0.8 µs of ~4.4 per
  // row, measured) for a query that no longer runs.
  `
  DROP INDEX IF EXISTS calls_created;
  `,
  // 12: what calls whose answers no record keeps cost (CallRecord.bills: a rejected answer, a call
  // failed after billed attempts), a JSON array: a run restarted after a crash counts its own as paid.
  `
  ALTER TABLE calls ADD COLUMN bills TEXT;
  `,
];
