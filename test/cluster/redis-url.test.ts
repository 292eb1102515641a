// A Redis URL in a message (`cannot reach Redis at …`, `--redis … is not a redis:// URL`) never shows
// its password: ioredis reads one from the userinfo (`redis://:pw@host`) and from the query
// (`?password=pw`), so both are blanked.
import { describe, expect, it } from 'vitest';
import { assertRedisReachable, clusterConfig, RedisUnavailableError, redactUrl } from '../../src/cluster/connection.js';
import { ElexirionError } from '../../src/errors.js';
import { REDIS_URL, runCli } from './harness.js';

describe('a Redis URL in messages', () => {
  it.each([
    ['redis://:s3cret-pw@127.0.0.1:6390/0', 'redis://:***@127.0.0.1:6390/0'],
    ['redis://127.0.0.1:6390/0?password=s3cret-pw', 'redis://127.0.0.1:6390/0?password=***'],
    ['rediss://user@h:6390?db=2&password=s3cret-pw&tls=1', 'rediss://user@h:6390?db=2&password=***&tls=1'],
    // Characters a userinfo cannot hold raw (percent-encoded when the URL is written back), and a
    // user name holding an encoded `:`: the one masking still blanks the whole password.
    ['redis://:s3cret-pw "x"[1]@127.0.0.1:6390', 'redis://:***@127.0.0.1:6390'],
    ['rediss://us%3Aer:s3cret-pw-ä@h:6390/1', 'rediss://us%3Aer:***@h:6390/1'],
  ])('%s shows as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    const error = new RedisUnavailableError(url, new Error('connect ECONNREFUSED'));
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.message).toContain(shown);
  });
});

// A database index Redis does not have (`/99` on a Redis with 16) used to be accepted: ioredis reports
// the failed SELECT only as an error event, so the probe's PING passed and every connection worked in
// database 0 — shared with whatever else uses it. A path that is no number (`/abc`) went there too.
describe('a Redis URL naming a database Redis does not have', () => {
  const withDb = (db: string) => {
    const url = new URL(REDIS_URL);
    url.pathname = `/${db}`;
    return url.toString();
  };

  it('is refused before anything connects (exit 2), a database Redis has is not', async () => {
    const refused = await assertRedisReachable(clusterConfig(withDb('99'), {})).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ElexirionError);
    expect((refused as ElexirionError).exitCode).toBe(2);
    expect((refused as Error).message).toMatch(/Redis refuses database 99: ERR DB index is out of range/);
    expect(() => clusterConfig(withDb('abc'), {})).toThrow(/"abc" is not a database number/);
    // A raw "/" in a password: the rest of it reads as the path, and no part of it is shown.
    const slashed = (() => {
      try {
        clusterConfig('redis://user:p@ss/w:rd@127.0.0.1:6379', {});
      } catch (error) {
        return error as ElexirionError;
      }
    })();
    expect(slashed?.exitCode).toBe(2);
    expect(slashed?.message).toMatch(/a password with "\/" in it/);
    expect(`${slashed?.message} ${slashed?.hint}`).not.toMatch(/w:rd|p@ss/);
    await expect(assertRedisReachable(clusterConfig(withDb('3'), {}))).resolves.toBeUndefined();
  });

  it('`elexirion worker --redis …/99`: exit 2 with the reason, no worker started', async () => {
    const { child, done } = runCli(['worker', '--redis', withDb('99'), '--db', ':memory:'], {
      ...process.env,
      NO_COLOR: '1',
      ELEXIRION_CLUSTER_PREFIX: `elxtest-db99-${process.pid}`,
    });
    // A worker that accepted the URL would run until stopped: stopped here after a while.
    const stop = setTimeout(() => child.kill('SIGKILL'), 8_000);
    const worker = await done.finally(() => clearTimeout(stop));
    expect(worker.code, worker.stderr).toBe(2);
    expect(worker.stderr).toMatch(/Redis refuses database 99/);
    expect(worker.stderr).not.toMatch(/ ready \(|queue error|\n\s+at /);
  }, 20_000);
});
