// Applies the pending migrations in one transaction, under a transaction-scoped advisory lock:
// when several workers start at once, one migrates and the others wait for it, then find
// nothing left to do. DDL is transactional in PostgreSQL, so a failed migration leaves nothing.
import type pg from 'pg';
import { ElexirionError, ExitCode } from '../errors.js';
import { quoteIdent } from './postgres-connection.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';

export async function migratePostgres(client: pg.PoolClient, schema: string | undefined): Promise<void> {
  // A journal at this version needs no DDL: read-only connections (a hot standby, a role without
  // CREATE) can then read it — and the health check tell that it takes no writes.
  if ((await schemaVersion(client, schema)) === POSTGRES_MIGRATIONS.length) return;
  await client.query('BEGIN');
  try {
    // Keyed by schema: isolated journals in one database migrate independently.
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtext('elexirion.migrate.' || coalesce($1::text, current_schema(), 'public')))`,
      [schema ?? null],
    );
    if (schema) {
      // Quoted: a keyword (`order`, `user`) is a schema name only so.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      // The session's search_path named it before it existed: name it again now that it does.
      await client.query(`SET LOCAL search_path = ${quoteIdent(schema)}`);
    }
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    const current = rows[0]?.v ?? 0;
    if (current > POSTGRES_MIGRATIONS.length) {
      throw new ElexirionError(
        `the PostgreSQL journal is at schema version ${current}, newer than this Elexirion knows (${POSTGRES_MIGRATIONS.length})`,
        { exitCode: ExitCode.unavailable, hint: 'upgrade Elexirion on this machine to the version the others run' },
      );
    }
    for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) {
      await client.query(POSTGRES_MIGRATIONS[v] as string);
      await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The journal's schema version, or undefined when it has none yet (no schema, no version table). */
async function schemaVersion(client: pg.PoolClient, schema: string | undefined): Promise<number | undefined> {
  const table = schema ? `${quoteIdent(schema)}.schema_version` : 'schema_version';
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  if (!rows[0]?.exists) return undefined;
  const version = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table}`);
  return version.rows[0]?.v ?? 0;
}
