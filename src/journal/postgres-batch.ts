// Many rows in few statements: one multi-row INSERT per chunk instead of a round trip per row
// (a batch commits hundreds of items at once). Chunks stay far below PostgreSQL's 65,535
// parameters per statement.
export interface Statement {
  text: string;
  values: unknown[];
}

export interface InsertSpec {
  /** `table (col, col, …)`. */
  into: string;
  /** The SQL type of each column, so that every placeholder is typed (`$3::json`). */
  types: readonly string[];
  /** What follows the VALUES list, e.g. an ON CONFLICT clause. */
  onConflict?: string;
}

const ROWS_PER_STATEMENT = 1000;

export function insertStatements(spec: InsertSpec, rows: unknown[][]): Statement[] {
  const statements: Statement[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = row.map((value, i) => {
        values.push(value);
        return `$${values.length}::${spec.types[i]}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    statements.push({
      text: `INSERT INTO ${spec.into} VALUES ${tuples.join(', ')}${spec.onConflict ? ` ${spec.onConflict}` : ''}`,
      values,
    });
  }
  return statements;
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
