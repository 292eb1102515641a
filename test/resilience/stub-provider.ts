// A Provider whose every call is scripted by the test: counts calls and calls in flight, and
// hands each call its AbortSignal so tests can observe cancellation.

import type { CallRecord } from '../../src/journal/store.js';
import type { Capabilities, ModelRequest, ModelResponse, Provider, StreamChunk } from '../../src/providers/provider.js';
import { ProviderError, type ProviderErrorKind } from '../../src/providers/provider-error.js';

export type StubBehaviour = (call: number, signal: AbortSignal, request: ModelRequest) => Promise<ModelResponse>;

export function answer(text = 'ok', usage = { inputTokens: 10, outputTokens: 5 }): ModelResponse {
  return { text, toolCalls: [], usage, finishReason: 'stop', model: 'stub-model' };
}

export function fault(
  kind: ProviderErrorKind,
  options: { status?: number; retryAfterMs?: number } = {},
): ProviderError {
  return new ProviderError('stub', kind, `${kind} fault`, options);
}

/** Waits `ms`, or rejects with an aborted ProviderError when `signal` fires first. */
export function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new ProviderError('stub', 'aborted', 'aborted by signal'));
    });
  });
}

export class StubProvider implements Provider {
  calls = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly signals: AbortSignal[] = [];

  constructor(
    private readonly behaviour: StubBehaviour = async () => answer(),
    readonly name = 'stub',
  ) {}

  capabilities(): Capabilities {
    return { streaming: true, tools: true, structuredOutput: true, systemPrompt: true };
  }

  supports(): boolean {
    return true;
  }

  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    this.calls++;
    this.signals.push(signal);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      return await this.behaviour(this.calls, signal, request);
    } finally {
      this.inFlight--;
    }
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    for (const word of response.text.split(' ')) yield { type: 'text', text: word };
    yield { type: 'done', response };
  }
}

/** Just the call-record half of a Store, in memory. */
export class MemoryCallStore {
  readonly records = new Map<string, CallRecord>();
  gets = 0;

  async putCall(call: CallRecord): Promise<void> {
    this.records.set(call.key, call);
  }

  async getCall(key: string, now: number): Promise<CallRecord | undefined> {
    this.gets++;
    const record = this.records.get(key);
    if (!record || (record.expiresAt !== null && record.expiresAt <= now)) return undefined;
    return record;
  }
}

export function request(content = 'hello', extra: Partial<ModelRequest> = {}): ModelRequest {
  return { provider: 'stub', model: 'stub-model', messages: [{ role: 'user', content }], maxTokens: 100, ...extra };
}
