// The same behaviour through each vendor SDK against its protocol fake: answers, usage, streaming,
// structured output, tool calls, and the mapping of every failure to a ProviderError.
import { describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/providers/provider-error.js';
import { faults } from '../fakes/index.js';
import { collect, rejection, request, SECRET_KEY, subjects } from './harness.js';

const all = subjects();

describe.each(all)('$name provider', (subject) => {
  const { fake } = subject;

  it('answers with text, usage, finish reason and model, and sends the system prompt', async () => {
    fake.queueAnswers({ text: 'Hello there', usage: { input: 12, output: 3, cacheRead: 5 } });
    const res = await subject.provider().generate(request(subject, { system: 'Be brief.' }), AbortSignal.timeout(5000));
    expect(res.text).toBe('Hello there');
    expect(res.usage).toMatchObject({ inputTokens: 12, outputTokens: 3, cacheReadTokens: 5 });
    expect(res.finishReason).toBe('stop');
    expect(res.model).toBe(subject.model);
    expect(fake.requests[0]?.rawBody).toContain('Be brief.');
    expect(fake.requests[0]?.rawBody).toContain('Say hello');
  });

  it('streams chunks in order, then one done with the whole text and usage', async () => {
    fake.queueAnswers({ text: 'one two three four', chunks: 4, usage: { input: 7, output: 4 } });
    const { chunks, done } = await collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000)));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe('one two three four');
    expect(done?.text).toBe('one two three four');
    expect(done?.usage).toMatchObject({ inputTokens: 7, outputTokens: 4 });
  });

  it('turns a stream cut off mid-way (clean end of body) into a retryable connection error', async () => {
    fake.injectFault(faults.truncate(2, 'end'));
    const err = await rejection(collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000))));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('connection');
    expect((err as ProviderError).retryable).toBe(true);
  });

  it('turns a stream whose socket dies into a retryable error, never a done', async () => {
    fake.injectFault(faults.truncate(2, 'destroy'));
    const seen: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const c of subject.provider().stream(request(subject), AbortSignal.timeout(5000))) seen.push(c.type);
      })(),
    );
    expect(seen).not.toContain('done');
    expect((err as ProviderError).kind).toBe('connection');
  });

  it('maps an error sent inside a 200 stream to a server fault (retryable, counted by the breaker), never a done', async () => {
    // Each vendor's own word for "the server failed" in the middle of an answer.
    const errorType = { anthropic: 'api_error', openai: 'server_error', gemini: 'INTERNAL' }[subject.name];
    fake.injectFault(faults.streamError(2, errorType, 'The server had an error while processing your request'));
    const seen: string[] = [];
    const err = (await rejection(
      (async () => {
        for await (const c of subject.provider().stream(request(subject), AbortSignal.timeout(5000))) seen.push(c.type);
      })(),
    )) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('server');
    expect(err.providerFault).toBe(true);
    expect(err.message).toContain('The server had an error');
    expect(seen).not.toContain('done');
  });

  it('returns structured output natively as `object`', async () => {
    const schema = { type: 'object', properties: { verdict: { type: 'string' } }, required: ['verdict'] };
    fake.queueAnswers({ json: { verdict: 'ok' } });
    const res = await subject.provider().generate(request(subject, { schema }), AbortSignal.timeout(5000));
    expect(res.object).toEqual({ verdict: 'ok' });
    expect(JSON.parse(res.text)).toEqual({ verdict: 'ok' });
  });

  it('returns tool calls with parsed arguments', async () => {
    fake.queueAnswers({ toolCalls: [{ id: 'call_a', name: 'read_file', arguments: { path: 'a.txt' } }] });
    const tools = [
      {
        name: 'read_file',
        description: 'Read a file',
        parameters: { type: 'object', properties: { path: { type: 'string' } } },
      },
    ];
    const res = await subject.provider().generate(request(subject, { tools }), AbortSignal.timeout(5000));
    expect(res.finishReason).toBe('tool_calls');
    expect(res.toolCalls).toEqual([expect.objectContaining({ name: 'read_file', arguments: { path: 'a.txt' } })]);
    expect(fake.requests[0]?.rawBody).toContain('read_file');
  });

  it('maps 429 with retry-after to rate_limited with retryAfterMs', async () => {
    fake.injectFault(faults.rateLimited(3));
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('rate_limited');
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(3000);
  });

  it.each([
    [faults.overloaded(), 'overloaded'],
    [faults.unavailable(), 'overloaded'],
    [faults.serverError(), 'server'],
    [faults.badRequest(), 'bad_request'],
    [faults.unauthorized(), 'auth'],
  ])('maps an HTTP error to its kind (%j → %s)', async (fault, kind) => {
    fake.injectFault(fault);
    const err = await rejection(subject.provider().generate(request(subject), AbortSignal.timeout(5000)));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe(kind);
    expect(fake.requests).toHaveLength(1); // the SDK did not retry on its own
  });

  it('maps a reset connection to a retryable connection error', async () => {
    fake.injectFault(faults.reset());
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('connection');
    expect(err.retryable).toBe(true);
  });

  it('maps a malformed body to invalid_response', async () => {
    fake.injectFault(faults.malformed());
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('invalid_response');
  });

  it('maps a malformed stream chunk to invalid_response and prints nothing (no SDK logging to the console)', async () => {
    vi.stubEnv('ANTHROPIC_LOG', '');
    vi.stubEnv('OPENAI_LOG', '');
    const printed = (['error', 'warn', 'info', 'log', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => undefined),
    );
    try {
      fake.injectFault(faults.malformed());
      const err = await rejection(collect(subject.provider().stream(request(subject), AbortSignal.timeout(5000))));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).kind).toBe('invalid_response');
      for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of printed) spy.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it('maps a JSON answer cut off by a clean end of body to a retryable invalid_response', async () => {
    fake.injectFault(faults.truncate(2, 'end'));
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe('invalid_response');
    expect(err.retryable).toBe(true);
  });

  it('really aborts the HTTP request when the signal fires (the fake sees the socket close)', async () => {
    fake.setFaultMode(faults.hang());
    const controller = new AbortController();
    const pending = rejection(subject.provider().generate(request(subject), controller.signal));
    await fake.waitFor(() => fake.inFlight === 1);
    controller.abort();
    const err = (await pending) as ProviderError;
    expect(err.kind).toBe('aborted');
    expect(err.retryable).toBe(false);
    await fake.waitFor(() => fake.requests[0]?.aborted === true);
  });

  it.each([
    ['cancelled', 'aborted', undefined],
    ['past its deadline', 'timeout', new DOMException('deadline', 'TimeoutError')],
  ])('reports a stream stopped mid-way (%s) as %s, not as a cut-off connection', async (_what, kind, reason) => {
    fake.chunkDelayMs = 100; // the stream is still going when the signal fires
    fake.queueAnswers({ text: 'one two three four five six', chunks: 6 });
    const controller = new AbortController();
    const seen: string[] = [];
    const err = (await rejection(
      (async () => {
        for await (const c of subject.provider().stream(request(subject), controller.signal)) {
          seen.push(c.type);
          if (seen.length === 1) controller.abort(reason);
        }
      })(),
    )) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(kind);
    expect(seen).not.toContain('done');
    await fake.waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('reports a deadline as timeout (retryable)', async () => {
    fake.setFaultMode(faults.hang());
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(100)),
    )) as ProviderError;
    expect(err.kind).toBe('timeout');
    expect(err.retryable).toBe(true);
    await fake.waitFor(() => fake.requests[0]?.aborted === true);
  });

  it('takes a 402 (the account cannot pay: Anthropic’s billing_error) for the operator’s to fix, not retried', async () => {
    fake.injectFault({ kind: 'status', status: 402, message: 'Your credit balance is too low' });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
  });

  it('never puts the API key in an error message, even when the server echoes it', async () => {
    fake.injectFault({ kind: 'status', status: 401, message: `invalid key ${SECRET_KEY}` });
    const err = (await rejection(
      subject.provider().generate(request(subject), AbortSignal.timeout(5000)),
    )) as ProviderError;
    expect(err.kind).toBe('auth');
    expect(err.message).not.toContain(SECRET_KEY);
    expect(String((err.cause as Error | undefined)?.message ?? '')).not.toContain(SECRET_KEY);
    expect(JSON.stringify(fake.requests[0]?.headers)).toContain(SECRET_KEY); // it was sent, just not leaked
  });
});

describe.each(all.filter((s) => s.name !== 'gemini'))('$name provider with custom headers', (subject) => {
  // A gateway credential in ANTHROPIC_CUSTOM_HEADERS / OPENAI_CUSTOM_HEADERS reaches the provider as a
  // header; gateways' 401 bodies often quote the request's headers back.
  const GATEWAY_CREDENTIAL = 'gwcred-SECRET-777777';

  it('never puts a header value in an error message, even when the server echoes it', async () => {
    const { fake } = subject;
    fake.injectFault({ kind: 'status', status: 401, message: `denied: x-gateway-auth: ${GATEWAY_CREDENTIAL}` });
    const Provider = subject.provider().constructor as new (options: object) => ReturnType<typeof subject.provider>;
    const baseUrl = subject.name === 'openai' ? `${fake.baseUrl}/v1` : fake.baseUrl;
    const provider = new Provider({ apiKey: SECRET_KEY, baseUrl, headers: { 'x-gateway-auth': GATEWAY_CREDENTIAL } });
    const err = (await rejection(provider.generate(request(subject), AbortSignal.timeout(5000)))) as ProviderError;
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('x-gateway-auth: ***');
    expect(err.message).not.toContain(GATEWAY_CREDENTIAL);
    expect(JSON.stringify(fake.requests[0]?.headers)).toContain(GATEWAY_CREDENTIAL); // sent, not leaked
  });
});
