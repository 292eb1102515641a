// The machine's PostgreSQL for tests (.ci/run starts it): each test file works in a schema of its
// own, created on first use by the store and dropped at the end, so files can run side by side.
import pg from 'pg';

/** Trust auth on the local server; ELEXIRION_TEST_POSTGRES points elsewhere. */
export const TEST_POSTGRES_URL = process.env.ELEXIRION_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;

/** A schema name no other test file (or run of this one) uses. */
export function uniqueSchema(prefix = 'elexirion_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

/** Runs SQL outside any store, on a connection of its own. */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
