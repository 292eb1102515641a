// Where a command's journal lives: --db, else ELEXIRION_DB, else .elexirion/elexirion.db under the
// working directory (a project keeps its runs beside its pipelines, like .git).
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SqliteStore } from '../journal/sqlite-store.js';
import type { Store } from '../journal/store.js';
import type { CliContext } from './context.js';

export const DEFAULT_DB = '.elexirion/elexirion.db';

export function databaseLocation(db: string | undefined, ctx: CliContext): string {
  return db ?? ctx.env.ELEXIRION_DB ?? DEFAULT_DB;
}

export function openStore(db: string | undefined, ctx: CliContext): Store {
  const location = databaseLocation(db, ctx);
  if (/^postgres(ql)?:\/\//.test(location)) {
    throw new UsageError(
      'the PostgreSQL journal is not available in this version (it comes with cluster mode)',
      'use a SQLite file: --db PATH (default .elexirion/elexirion.db)',
    );
  }
  // `:memory:` is SQLite's own name for a journal that lives and dies with the process.
  return new SqliteStore(location === ':memory:' ? location : resolve(ctx.cwd, location));
}
