// node-postgres, loaded when a PostgreSQL journal is opened, not when the library or a worker is
// imported: most processes journal to SQLite, and pg costs every start tens of milliseconds. pg is
// CommonJS, so require() loads it synchronously and the store's constructor stays synchronous.
import { createRequire } from 'node:module';
import type pg from 'pg';

let loaded: typeof pg | undefined;

/** The pg module, loaded on the first call. */
export function loadPg(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg;
  return loaded;
}
