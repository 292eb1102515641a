// A Redis URL in a message (`cannot reach Redis at …`, `--redis … is not a redis:// URL`) never shows
// its password: ioredis reads one from the userinfo (`redis://:pw@host`) and from the query
// (`?password=pw`), so both are blanked.
import { describe, expect, it } from 'vitest';
import { RedisUnavailableError, redactUrl } from '../../src/cluster/connection.js';

describe('a Redis URL in messages', () => {
  it.each([
    ['redis://:s3cret-pw@127.0.0.1:6390/0', 'redis://:***@127.0.0.1:6390/0'],
    ['redis://127.0.0.1:6390/0?password=s3cret-pw', 'redis://127.0.0.1:6390/0?password=***'],
    ['rediss://user@h:6390?db=2&password=s3cret-pw&tls=1', 'rediss://user@h:6390?db=2&password=***&tls=1'],
  ])('%s shows as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    const error = new RedisUnavailableError(url, new Error('connect ECONNREFUSED'));
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.message).toContain(shown);
  });
});
