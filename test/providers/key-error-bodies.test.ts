// Errors whose HTTP status says "bad request" but whose body blames the key or the account: they are
// `auth` — not retried, the operator's to fix — as a 401 or 403 is. At the protocol level, against
// the fakes: the vendor's own error body, through the vendor's SDK.
import { describe, expect, it } from 'vitest';
import type { ProviderError } from '../../src/providers/provider-error.js';
import { collect, rejection, request, type Subject, subjects } from './harness.js';

const all = subjects();
const subject = (name: Subject['name']) => all.find((s) => s.name === name) as Subject;

/** What the Gemini API answers to a wrong key (an expired one too): a 400 with ErrorInfo API_KEY_INVALID. */
const geminiKeyInvalid = {
  kind: 'status' as const,
  status: 400,
  body: {
    error: {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'generativelanguage.googleapis.com' },
        },
      ],
    },
  },
};

async function failure(s: Subject, stream: boolean): Promise<ProviderError> {
  const signal = AbortSignal.timeout(5000);
  const call = stream ? collect(s.provider().stream(request(s), signal)) : s.provider().generate(request(s), signal);
  return (await rejection(call)) as ProviderError;
}

describe('an error body that blames the key is auth, whatever its status', () => {
  for (const stream of [false, true]) {
    it(`gemini: a 400 whose reason is API_KEY_INVALID (${stream ? 'streamed' : 'not streamed'})`, async () => {
      const gemini = subject('gemini');
      gemini.fake.injectFault(geminiKeyInvalid);
      const err = await failure(gemini, stream);
      expect(err.kind).toBe('auth');
      expect(err.retryable).toBe(false);
      expect(err.status).toBe(400);
      expect(err.message).toContain('API key not valid');
    });
  }

  it('gemini: any other 400 stays a bad request', async () => {
    const gemini = subject('gemini');
    gemini.fake.injectFault({ kind: 'status', status: 400, message: 'Invalid JSON payload received.' });
    expect((await failure(gemini, false)).kind).toBe('bad_request');
  });

  for (const stream of [false, true]) {
    it(`anthropic: a billing_error sent as a 400 (a gateway's) (${stream ? 'streamed' : 'not streamed'})`, async () => {
      const anthropic = subject('anthropic');
      anthropic.fake.injectFault({
        kind: 'status',
        status: 400,
        body: { type: 'error', error: { type: 'billing_error', message: 'Your credit balance is too low' } },
      });
      const err = await failure(anthropic, stream);
      expect(err.kind).toBe('auth');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('credit balance');
    });
  }

  it('anthropic: an invalid_request_error 400 stays a bad request', async () => {
    const anthropic = subject('anthropic');
    anthropic.fake.injectFault({ kind: 'status', status: 400, message: 'messages: field required' });
    expect((await failure(anthropic, false)).kind).toBe('bad_request');
  });
});
