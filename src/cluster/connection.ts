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
  return { redisUrl, prefix: env.ELEXIRION_CLUSTER_PREFIX || DEFAULT_PREFIX };
}

/** A URL fit for messages: the password (if any) never appears. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // ioredis also reads a password from the query (`?password=`).
    return redactInText(parsed.toString().replace(/\/$/, ''));
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

/** Fails fast with RedisUnavailableError when Redis does not answer a PING within `timeoutMs`. */
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
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new RedisUnavailableError(config.redisUrl, cause ?? error);
  } finally {
    probe.disconnect();
  }
}
