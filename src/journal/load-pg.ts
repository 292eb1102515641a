// node-postgres, loaded when a PostgreSQL journal is opened, not when the library or a worker is
// imported: most processes journal to SQLite, and pg costs every start tens of milliseconds. pg is
// CommonJS, so require() loads it synchronously and the store's constructor stays synchronous.
import type pg from 'pg';
import { requireOnUse } from '../require-on-use.js';

/** The pg module, loaded on the first call. */
export const loadPg = requireOnUse<typeof pg>('pg');
