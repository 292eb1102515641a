// Where a command's journal lives: --db, else ELEXIRION_DB, else .elexirion/elexirion.db under the
// working directory (a project keeps its runs beside its pipelines, like .git). A postgres:// URL
// selects the PostgreSQL journal, shared by the workers of a cluster.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { SqliteStore } from '../journal/sqlite-store.js';
import type { Store } from '../journal/store.js';
import { redactUrl } from '../telemetry/redact.js';
import type { CliContext } from './context.js';

export const DEFAULT_DB = '.elexirion/elexirion.db';

export function databaseLocation(db: string | undefined, ctx: CliContext): string {
  // Set but empty (`ELEXIRION_DB= elexirion run …`) is unset, not the working directory.
  return db || ctx.env.ELEXIRION_DB || DEFAULT_DB;
}

export interface OpenStoreOptions {
  /**
   * The command reads runs the journal already holds (`runs`, `runs show`, `resume`): a SQLite
   * journal that does not exist is a NoJournalError naming where it was looked for — a mistyped
   * --db must not create an empty journal (and its directories) and report "no run with id".
   */
  existing?: boolean;
}

/** No journal where a command that reads runs looked for one. */
export class NoJournalError extends UsageError {
  constructor(readonly path: string) {
    super(
      `no journal at ${path}: no run has been recorded there`,
      'runs are journaled where `elexirion run` wrote them: its --db, $ELEXIRION_DB, or .elexirion/elexirion.db in the directory it ran in',
    );
  }
}

/** A postgres:// or postgresql:// URL (the same test as the PostgreSQL store's). */
const POSTGRES_URL = /^postgres(ql)?:\/\//;
/**
 * Any other `scheme://` (RFC 3986 scheme): not a file path. Taken as one, `--db mysql://u:pw@h/db`
 * made the directories `mysql:/u:pw@h` and a SQLite journal in them, and the commands that read
 * runs said "no journal at …/mysql:/u:pw@h/db" — the password in the directory name and the message.
 */
const OTHER_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function unsupportedUrl(location: string): UsageError {
  return new UsageError(
    `the journal URL ${redactUrl(location)} is not one Elexirion can open: a journal is a postgres:// URL or a SQLite file`,
    'give a postgres:// URL, or the path of a SQLite file (without sqlite:// or file://), in --db or ELEXIRION_DB',
  );
}

export async function openStore(
  db: string | undefined,
  ctx: CliContext,
  options: OpenStoreOptions = {},
): Promise<Store> {
  const location = databaseLocation(db, ctx);
  if (POSTGRES_URL.test(location)) {
    // Loaded on demand: `pg` is for clusters, and every command pays for what it imports.
    const { PostgresStore } = await import('../journal/postgres-store.js');
    return new PostgresStore(location);
  }
  // `:memory:` is SQLite's own name for a journal that lives and dies with the process.
  if (location === ':memory:') return new SqliteStore(location);
  if (OTHER_URL.test(location)) throw unsupportedUrl(location);
  const path = resolve(ctx.cwd, location);
  if (options.existing && !existsSync(path)) throw new NoJournalError(path);
  return new SqliteStore(path);
}
