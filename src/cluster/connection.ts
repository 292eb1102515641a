// Where the cluster lives: a Redis URL and a key prefix. Every queue, heartbeat and gate key of one
// cluster starts with the prefix, so that several clusters (or test cases) can share one Redis.
import { Redis, type RedisOptions } from 'ioredis';
import { ElexirionError, ExitCode } from '../errors.js';
import { redactUrl as redactInText } from '../telemetry/redact.js';

export const DEFAULT_PREFIX = 'elexirion';

export interface ClusterConfig {
  redisUrl: string;
  /** Key prefix of every queue and key of this cluster (ELEXIRION_CLUSTER_PREFIX). */
  prefix: string;
}

/** `--redis`, else ELEXIRION_REDIS; a clear error when neither names a Redis. */
export function clusterConfig(redis: string | undefined, env: NodeJS.ProcessEnv): ClusterConfig {
  const redisUrl = redis ?? env.ELEXIRION_REDIS;
  if (!redisUrl) {
    throw new ElexirionError('cluster mode needs a Redis: no --redis given and ELEXIRION_REDIS is not set', {
      exitCode: ExitCode.invalidInput,
      hint: 'pass --redis redis://HOST:6379 or set ELEXIRION_REDIS',
    });
  }
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new ElexirionError(`--redis ${redactUrl(redisUrl)} is not a redis:// or rediss:// URL`, {
      exitCode: ExitCode.invalidInput,
      hint: 'e.g. --redis redis://127.0.0.1:6379',
    });
  }
  // ioredis reads the path as a database number and takes anything else (`/abc`) for database 0:
  // two clusters meant to be kept apart would share one.
  const path = URL.canParse(redisUrl) ? new URL(redisUrl).pathname : '';
  // A password with a raw `/` ends the authority there: the rest of it reads as the path. Nothing
  // of the URL is shown then — any part of it may be the password's.
  if (path.includes('@')) {
    throw new ElexirionError('--redis: the URL\'s path holds an "@": a password with "/" in it ends the host there', {
      exitCode: ExitCode.invalidInput,
      hint: 'percent-encode the password\'s "/" as %2F (and "@" as %40, ":" as %3A)',
    });
  }
  if (path !== '' && path !== '/' && !/^\/\d+$/.test(path)) {
    throw new ElexirionError(`--redis ${redactUrl(redisUrl)}: "${path.slice(1)}" is not a database number`, {
      exitCode: ExitCode.invalidInput,
      hint: 'the path of a Redis URL is a database number, e.g. --redis redis://127.0.0.1:6379/2',
    });
  }
  return { redisUrl, prefix: env.ELEXIRION_CLUSTER_PREFIX || DEFAULT_PREFIX };
}

/**
 * A URL fit for messages: the password (if any) never appears. One masking, the redactor's, blanks
 * both places ioredis reads a password from: the userinfo (`redis://:pw@host`) and the query
 * (`?password=`). The URL is parsed and written back first: its password then has every character a
 * userinfo cannot hold percent-encoded, so the redactor's rule masks all of it.
 */
export function redactUrl(url: string): string {
  try {
    return redactInText(new URL(url).toString().replace(/\/$/, ''));
  } catch {
    return '(unparsable URL)';
  }
}

export class RedisUnavailableError extends ElexirionError {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot reach Redis at ${redactUrl(url)}: ${reason}`, {
      exitCode: ExitCode.unavailable,
      hint: 'start Redis (redis-server), check --redis / ELEXIRION_REDIS, or add --fallback-local to run on this machine',
      cause,
    });
  }
}

/**
 * A connection for BullMQ and our own keys. `maxRetriesPerRequest: null` is what BullMQ workers
 * require: a command waits out a Redis restart instead of failing.
 */
export function redisConnection(config: ClusterConfig, options: RedisOptions = {}): Redis {
  return new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
}

/** The URL names a database this Redis does not have (beyond its `databases` setting). */
export class RedisDatabaseError extends ElexirionError {
  constructor(url: string, db: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`--redis ${redactUrl(url)}: Redis refuses database ${db}: ${reason}`, {
      exitCode: ExitCode.invalidInput,
      hint: 'a Redis has 16 databases (0 to 15) unless its `databases` setting says otherwise: pick one it has',
      cause,
    });
  }
}

/**
 * Fails fast with RedisUnavailableError when Redis does not answer a PING within `timeoutMs`, and
 * with RedisDatabaseError when it refuses the URL's database: ioredis reports a failed SELECT only as
 * an error event, and every connection would then work in database 0 — silently shared with
 * whatever uses that one.
 */
export async function assertRedisReachable(config: ClusterConfig, timeoutMs = 2_000): Promise<void> {
  const probe = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: unknown;
  probe.on('error', (error) => {
    cause ??= error; // the real reason (ECONNREFUSED …); connect() only says the connection closed
  });
  const db = Number(probe.options.db ?? 0);
  try {
    try {
      await probe.connect();
      await probe.ping();
    } catch (error) {
      throw new RedisUnavailableError(config.redisUrl, cause ?? error);
    }
    if (db !== 0) {
      await probe.select(db).catch((error: unknown) => {
        // A Redis that answers but refuses the database: the URL is wrong, not Redis away.
        throw /DB index|out of range|not an integer/i.test(String(error))
          ? new RedisDatabaseError(config.redisUrl, db, error)
          : new RedisUnavailableError(config.redisUrl, error);
      });
    }
  } finally {
    probe.disconnect();
  }
}
