// How long a 429 asks us to wait, read from the vendors' headers.
import { describe, expect, it } from 'vitest';
import { retryAfterFromHeaders } from '../../src/providers/provider-error.js';

const NOW = Date.parse('2025-11-20T12:00:00Z');
const read = (headers: Record<string, string>, status = 429) =>
  retryAfterFromHeaders((name) => headers[name], status, NOW);

describe('retryAfterFromHeaders', () => {
  it('waits for the exhausted Anthropic limit (input tokens), not for the requests limit that has room', () => {
    expect(
      read({
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': '2025-11-20T12:00:01Z',
        'anthropic-ratelimit-input-tokens-remaining': '0',
        'anthropic-ratelimit-input-tokens-reset': '2025-11-20T12:00:30Z',
      }),
    ).toBe(30_000);
  });

  it('takes the longest reset when several limits are exhausted', () => {
    expect(
      read({
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '2s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '1m30s',
      }),
    ).toBe(90_000);
  });

  it('no wait from the resets of limits with room left, or with no remaining count to say so: the retry backs off', () => {
    // A limit with requests left says nothing of when a retry passes (a daily one resets in hours).
    expect(
      read({
        'x-ratelimit-remaining-requests': '150',
        'x-ratelimit-reset-requests': '7m12s',
        'x-ratelimit-remaining-tokens': '39000',
        'x-ratelimit-reset-tokens': '150ms',
      }),
    ).toBeUndefined();
    expect(read({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '20s' })).toBeUndefined();
  });

  it('reads the reset headers for a 429 only: a 503 or a 500 is not about a limit', () => {
    const exhausted = { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20s' };
    expect(read(exhausted, 429)).toBe(20_000);
    expect(read(exhausted, 503)).toBeUndefined();
    expect(read({ ...exhausted, 'anthropic-ratelimit-tokens-remaining': '0' }, 500)).toBeUndefined();
    // retry-after is the provider asking, whatever the status.
    expect(read({ ...exhausted, 'retry-after': '3' }, 503)).toBe(3000);
    expect(read({ 'retry-after-ms': '250' }, 500)).toBe(250);
  });

  it('prefers retry-after over every reset header', () => {
    expect(read({ 'retry-after': '7', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20s' })).toBe(
      7000,
    );
  });
});
