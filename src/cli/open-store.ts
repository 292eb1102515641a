// Where a command's journal lives: --db, else ELEXIRION_DB, else .elexirion/elexirion.db under the
// working directory (a project keeps its runs beside its pipelines, like .git). A postgres:// URL
// selects the PostgreSQL journal, shared by the workers of a cluster.
import { resolve } from 'node:path';
import { SqliteStore } from '../journal/sqlite-store.js';
import type { Store } from '../journal/store.js';
import type { CliContext } from './context.js';

export const DEFAULT_DB = '.elexirion/elexirion.db';

export function databaseLocation(db: string | undefined, ctx: CliContext): string {
  return db ?? ctx.env.ELEXIRION_DB ?? DEFAULT_DB;
}

/** A postgres:// or postgresql:// URL (the same test as the PostgreSQL store's). */
const POSTGRES_URL = /^postgres(ql)?:\/\//;

export async function openStore(db: string | undefined, ctx: CliContext): Promise<Store> {
  const location = databaseLocation(db, ctx);
  if (POSTGRES_URL.test(location)) {
    // Loaded on demand: `pg` is for clusters, and every command pays for what it imports.
    const { PostgresStore } = await import('../journal/postgres-store.js');
    return new PostgresStore(location);
  }
  // `:memory:` is SQLite's own name for a journal that lives and dies with the process.
  return new SqliteStore(location === ':memory:' ? location : resolve(ctx.cwd, location));
}
