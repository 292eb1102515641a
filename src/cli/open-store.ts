// Where a command's journal lives: --db, else ELEXIRION_DB, else .elexirion/elexirion.db under the
// working directory (a project keeps its runs beside its pipelines, like .git). A postgres:// URL
// selects the PostgreSQL journal, shared by the workers of a cluster.
import { resolve } from 'node:path';
import { POSTGRES_URL } from '../journal/postgres-connection.js';
import { PostgresStore } from '../journal/postgres-store.js';
import { SqliteStore } from '../journal/sqlite-store.js';
import type { Store } from '../journal/store.js';
import type { CliContext } from './context.js';

export const DEFAULT_DB = '.elexirion/elexirion.db';

export function databaseLocation(db: string | undefined, ctx: CliContext): string {
  return db ?? ctx.env.ELEXIRION_DB ?? DEFAULT_DB;
}

export function openStore(db: string | undefined, ctx: CliContext): Store {
  const location = databaseLocation(db, ctx);
  if (POSTGRES_URL.test(location)) return new PostgresStore(location);
  // `:memory:` is SQLite's own name for a journal that lives and dies with the process.
  return new SqliteStore(location === ':memory:' ? location : resolve(ctx.cwd, location));
}
