// Everything about reaching PostgreSQL that is not SQL: reading the URL, building the pool's
// configuration, and turning "cannot connect" into a sentence a user can act on — without ever
// repeating the password that the URL carries.
import type pg from 'pg';
import { ElexirionError, ExitCode, UsageError } from '../errors.js';
import { redactUrl } from '../telemetry/redact.js';
import { loadPg } from './load-pg.js';

export const POSTGRES_URL = /^postgres(ql)?:\/\//;
/**
 * Lower-case identifiers only: the name is the same quoted or not, and needs no escaping. It is
 * quoted wherever it is written into SQL or search_path all the same (quoteIdent): a keyword
 * (`order`, `user`, `select`, `current_user`) is a valid schema name only quoted.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INT8_OID = 20;
/** SQLSTATE of a statement that waited for a lock past `lock_timeout`. */
export const LOCK_NOT_AVAILABLE = '55P03';
const JSON_OID = 114;

export interface PostgresTarget {
  /** The URL with the password replaced by `***`: the only form that may be printed. */
  display: string;
  host: string;
  database: string;
  user: string;
  password: string;
}

export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `the journal URL ${redactUrl(url)} is not a valid PostgreSQL URL`,
      'write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE in --db or ELEXIRION_DB',
    );
  }
  if (!POSTGRES_URL.test(url)) {
    throw new UsageError(`the journal URL ${redactUrl(url)} is not a postgres:// URL`);
  }
  const host = `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username);
  const display = new URL(url);
  if (display.password) display.password = '***';
  // The client also reads a password from the query (`?password=`): that one, too, is kept out.
  const queryPassword = parsed.searchParams.get('password') ?? '';
  return {
    display: redactUrl(display.toString()),
    host,
    database,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password) || queryPassword,
  };
}

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new UsageError(
      `"${schema}" cannot be used as the journal's PostgreSQL schema`,
      'use lower-case letters, digits and underscores, starting with a letter or underscore (at most 63)',
    );
  }
  if (schema.startsWith('pg_')) {
    throw new UsageError(
      `"${schema}" cannot be used as the journal's PostgreSQL schema: PostgreSQL reserves names beginning with pg_`,
      'choose a name that does not begin with pg_',
    );
  }
}

/** `name` as a quoted SQL identifier: a keyword (`order`, `user`) names a schema only so. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface PoolSettings {
  max: number;
  schema?: string;
  connectionTimeoutMs: number;
}

/**
 * How long a session may sit idle inside a transaction before the server ends it. Every transaction
 * of the store is a few statements sent back to back: one idle that long belongs to a process that
 * stopped mid-transaction (frozen — a paused VM, SIGSTOP — or gone without a word), and its locks
 * would otherwise keep the run's row from being claimed by another until it runs again.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * The pool's configuration. Session settings travel as startup `options` so that every connection
 * has them before its first query: the schema; `synchronous_commit=on` — a commit is flushed to the
 * WAL on disk before it is acknowledged, whatever the server's default, because the Store promises
 * that a committed step survives a crash; and `idle_in_transaction_session_timeout` (above). TCP
 * keepalive finds a connection whose server, or the network to it, has silently gone away.
 */
export function poolConfig(url: string, settings: PoolSettings): pg.PoolConfig {
  const withOptions = new URL(url);
  const session = [
    '-c synchronous_commit=on',
    `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`,
  ];
  // Quoted: a keyword is a schema name only so (search_path reads quoted identifiers).
  if (settings.schema) session.push(`-c search_path=${quoteIdent(settings.schema)}`);
  const given = withOptions.searchParams.get('options');
  withOptions.searchParams.set('options', [given, ...session].filter(Boolean).join(' '));
  return {
    connectionString: withOptions.toString(),
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    idleTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // An idle pool does not keep a finished CLI command alive.
    allowExitOnIdle: true,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  };
}

/**
 * BIGINT (epoch milliseconds, counts) as numbers: every value we store fits in 2^53. `json` as its
 * text, parsed by the row mappers, which keep a JSON null apart from SQL NULL (an absent field).
 */
function typeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return Number;
  if (oid === JSON_OID) return (value) => value;
  return loadPg().types.getTypeParser(oid, format);
}

/** Node's network errors and the SQLSTATE classes that mean "the database cannot be used at all". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const AUTH_STATES = new Set(['28000', '28P01']);
/**
 * Also 55P03 (lock_not_available): a claim of a run that waited past its lock timeout
 * (PostgresStore.claimRun) — another session holds the run's row, for now; try again later.
 */
const UNAVAILABLE_STATES = new Set(['3D000', '53300', '57P01', '57P02', '57P03', LOCK_NOT_AVAILABLE]);
export const CONNECT_TIMEOUT = /timeout exceeded when trying to connect/;
const CONNECTION_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|connection timeout/i;

export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  return (
    NETWORK_CODES.has(code) ||
    AUTH_STATES.has(code) ||
    UNAVAILABLE_STATES.has(code) ||
    code.startsWith('08') ||
    (typeof e?.message === 'string' && CONNECTION_MESSAGES.test(e.message))
  );
}

/** The clear error for a database that cannot be reached or entered: what, where, what to do. */
export function unavailableError(
  target: PostgresTarget,
  error: unknown,
  /** Set when every connection of the pool was in use: the wait, not the server, timed out. */
  busyPool?: { max: number },
): ElexirionError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  if (busyPool) {
    return new ElexirionError(
      `the PostgreSQL journal at ${target.display} kept all ${busyPool.max} connections of this process busy too long`,
      {
        exitCode: ExitCode.unavailable,
        hint: 'raise the pool size (PostgresStore option `max`), lower the concurrency, or check for slow queries',
        cause: error,
      },
    );
  }
  // Node reports a refused dual-stack connection as an AggregateError with an empty message.
  const reason = e.message || code || 'unknown error';
  let hint = `is PostgreSQL running at ${target.host}? check --db / ELEXIRION_DB`;
  if (AUTH_STATES.has(code)) hint = `check the user "${target.user}" and its password in --db / ELEXIRION_DB`;
  if (code === '3D000') {
    hint = `create the database (createdb ${target.database}) or fix its name in --db / ELEXIRION_DB`;
  }
  if (code === '53300') hint = `the server has no free connection: lower the pool size or raise max_connections`;
  if (code === LOCK_NOT_AVAILABLE) hint = 'another session holds the rows this one waited for: try again shortly';
  const message = `cannot use the PostgreSQL journal at ${target.display}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`;
  return new ElexirionError(withoutSecret(message, target.password), {
    exitCode: ExitCode.unavailable,
    hint,
    cause: error,
  });
}

function withoutSecret(text: string, secret: string): string {
  if (!secret) return text;
  return text.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
}
