// How long a 429 asks us to wait, read from the vendors' headers.
import { describe, expect, it } from 'vitest';
import { retryAfterFromHeaders } from '../../src/providers/provider-error.js';

const NOW = Date.parse('2025-11-20T12:00:00Z');
const read = (headers: Record<string, string>) => retryAfterFromHeaders((name) => headers[name], NOW);

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

  it('takes the first reset when no remaining count says which limit was hit', () => {
    expect(read({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '20s' })).toBe(2000);
  });

  it('prefers retry-after over every reset header', () => {
    expect(read({ 'retry-after': '7', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '20s' })).toBe(
      7000,
    );
  });
});
