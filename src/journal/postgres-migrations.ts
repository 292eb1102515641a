// Ordered, append-only: migration N upgrades schema version N to N+1. Never edit a shipped one.
//
// Documents are `json`, not `jsonb`: jsonb re-orders object keys (shortest first) and drops
// duplicates, and the order of a run's outputs, inputs and variables is what the user sees printed
// and what a resume from the stored pipeline evaluates. Nothing queries inside these documents,
// so jsonb's indexing would buy nothing. Epoch-millisecond instants are BIGINT (read back as numbers
// by the store's type parser); costs are double precision, NULL when unknown (distinct from 0).
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline_name TEXT NOT NULL,
    pipeline_file TEXT,
    pipeline_hash TEXT NOT NULL,
    pipeline JSON NOT NULL,
    inputs JSON NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    failed_step TEXT,
    outputs JSON,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    totals JSON NOT NULL,
    metadata JSON NOT NULL
  );
  CREATE INDEX runs_started ON runs (started_at DESC);
  CREATE INDEX runs_status_started ON runs (status, started_at DESC);
  CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    output JSON,
    error TEXT,
    usage JSON NOT NULL,
    cost_usd DOUBLE PRECISION,
    duration_ms DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    details JSON,
    -- Ties on finished_at are broken by first commit, as SQLite's rowid does.
    commit_order BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE items (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    output JSON,
    error TEXT,
    usage JSON NOT NULL,
    cost_usd DOUBLE PRECISION,
    attempts INTEGER NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, step_key, idx)
  );
  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at BIGINT NOT NULL,
    data JSON NOT NULL,
    PRIMARY KEY (run_id, seq)
  );
  CREATE TABLE calls (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request JSON NOT NULL,
    response JSON NOT NULL,
    usage JSON NOT NULL,
    cost_usd DOUBLE PRECISION,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
  );
  `,
  // 2: what each batch item called, kept with it as its tokens and cost are — the run's `calls` total
  // is derived from the items, not from what a batch (or a cluster chunk delivered twice) counted;
  // and what the steps `resume --force` forgot had spent (a RunTotals document; NULL: nothing
  // forgotten): their rows go, the money stays paid (Store.deleteSteps). A column, not the run's
  // metadata: it is written in the deletion's own transaction, and metadata is what claimRun compares.
  `
  ALTER TABLE items ADD COLUMN calls INTEGER;
  ALTER TABLE runs ADD COLUMN forgotten_spend JSON;
  `,
  // 3: how many of an item's calls had no price. Its cost is then the known part, not NULL, so
  // `cost_usd IS NULL` alone missed them (a priced call, then an unpriced fallback). NULL: none, or
  // an item journaled before — counted as one when its cost is NULL (itemTotals).
  `
  ALTER TABLE items ADD COLUMN unpriced_calls INTEGER;
  `,
  // 4: one row the health check writes (PostgresStore.probeWrite): a journal that answers reads but
  // takes no writes — a full disk, a standby after a failover, a role without INSERT — cannot record
  // a run, and only a committed write shows it.
  `
  CREATE TABLE health_probe (id INTEGER PRIMARY KEY, at BIGINT NOT NULL);
  `,
  // 5: the claim a run holds (run-fence.ts: its metadata's `resumes`, as claimOf reads it), in a
  // column of its own, which every fenced write compares. Not read out of the metadata in SQL: the
  // json operators (->>) fail on the whole document when any string in it holds a NUL or a lone
  // surrogate escape — free-form metadata may — and every fenced write of that run would fail.
  // Written with the metadata by createRun, updateRun and claimRun. A double, as claimOf's number is.
  // Filled in from each run's metadata; where the json operators could not read it, from its text
  // once every \uXXXX escape is taken out (escaped backslashes first, so that "\\u0000", a backslash
  // and "u0000", is no escape), which leaves `resumes` as it was.
  String.raw`
  ALTER TABLE runs ADD COLUMN claim DOUBLE PRECISION NOT NULL DEFAULT 0;
  UPDATE runs SET claim = (m.doc ->> 'resumes')::double precision
    FROM (
      SELECT id, CASE WHEN strpos(metadata::text, E'\\u') = 0 THEN metadata
        ELSE regexp_replace(replace(metadata::text, E'\\\\', ''), E'\\\\u[0-9a-fA-F]{4}', '', 'g')::json
      END AS doc
      FROM runs
    ) AS m
    WHERE runs.id = m.id AND (json_typeof(m.doc -> 'resumes') = 'number'
      OR (json_typeof(m.doc -> 'resumes') = 'string' AND m.doc ->> 'resumes' ~ '^-?[0-9]{1,15}$'));
  `,
  // 6: who paid for a call's answer (CallRecord.paidBy): a run restarted after a crash that finds
  // its own step's answer in the cache counts its cost as paid, not as a saving.
  `
  ALTER TABLE calls ADD COLUMN paid_by TEXT;
  `,
  // 7: what calls whose answers no record keeps cost (CallRecord.bills: a rejected answer, a call
  // failed after billed attempts), a JSON array: a run restarted after a crash counts its own as paid.
  `
  ALTER TABLE calls ADD COLUMN bills JSON;
  `,
];
