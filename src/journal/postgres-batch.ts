// Many rows in one statement: each column is one array parameter, unnested into rows
// (`INSERT … SELECT * FROM unnest($1::text[], $2::json[], …)`). A batch commits hundreds of items
// at once; whatever their number, that is one statement and one round trip, atomic on its own (no
// BEGIN … COMMIT), and always a dozen parameters, far below PostgreSQL's 65,535 per statement.
export interface Statement {
  text: string;
  values: unknown[];
}

export interface InsertSpec {
  /** `table (col, col, …)`. */
  into: string;
  /** The SQL type of each column, so that every array parameter is typed (`$3::json[]`). */
  types: readonly string[];
  /** What follows the rows, e.g. an ON CONFLICT clause. */
  onConflict?: string;
}

/**
 * One INSERT of `rows` (each a value per column of `spec`). `where`: a condition on no column of the
 * rows, under which they are inserted (a fence: run-fence.ts); `first`: the number of the columns'
 * first placeholder, when the statement has others before them (the condition's).
 */
export function insertRows(
  spec: InsertSpec,
  rows: readonly unknown[][],
  { where, first = 1 }: { where?: string; first?: number } = {},
): Statement {
  const condition = where === undefined ? '' : ` WHERE ${where}`;
  const tail = `${condition}${spec.onConflict ? ` ${spec.onConflict}` : ''}`;
  // One row (a step, most event appends) as plain parameters: cheaper to send and to plan.
  if (rows.length === 1) {
    const [row] = rows as [unknown[]];
    const columns = spec.types.map((type, i) => `$${first + i}::${type}`);
    return {
      text: `INSERT INTO ${spec.into} SELECT ${columns.join(', ')}${tail}`,
      values: spec.types.map((_, i) => row[i] ?? null),
    };
  }
  const columns = spec.types.map((type, i) => `$${first + i}::${type}[]`);
  return {
    text: `INSERT INTO ${spec.into} SELECT * FROM unnest(${columns.join(', ')})${tail}`,
    values: spec.types.map((_, i) => rows.map((row) => row[i] ?? null)),
  };
}

/**
 * The last record for each key, in first-seen order. An upsert statement may not touch the same
 * row twice, and a later write of a key replaces an earlier one (as one write after another would).
 */
export function lastByKey<T>(records: readonly T[], keyOf: (record: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const record of records) byKey.set(keyOf(record), record);
  return [...byKey.values()];
}
