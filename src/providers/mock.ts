// The mock provider: a provider-free stand-in for tests, demos and `--mock`. Deterministic — the same
// request always gets the same answer — so that runs, caches and cassettes behave as with a real
// model. Per-step knobs travel in `request.extra.mock` (set by the step handler from the YAML).
import { hash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { mockValueFor } from './mock-object.js';
import type { Capabilities, ModelRequest, ModelResponse, Provider, ProviderFeature, StreamChunk } from './provider.js';
import { capabilitySupports } from './provider.js';
import { ProviderError } from './provider-error.js';

export interface MockOptions {
  /** A fixed answer: text, or an object for structured steps. */
  response?: unknown;
  /** Simulated latency per call, in milliseconds. */
  latencyMs?: number;
  /** The first N attempts of this request fail with a retryable (overloaded) error. */
  failFirst?: number;
}

const CAPABILITIES: Capabilities = { streaming: true, tools: false, structuredOutput: true, systemPrompt: true };

/** Roughly four characters per token: enough for the mock's usage figures to scale like a real model's. */
const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export class MockProvider implements Provider {
  readonly name: string;
  /** Attempts seen per request, for `fail_first`. One provider per run keeps runs independent. */
  private readonly attempts = new Map<string, number>();
  /** Total calls answered (tests count them to prove that finished work is not paid twice). */
  calls = 0;

  /**
   * A file that gets one JSON line per answered call (ELEXIRION_MOCK_CALL_LOG): how a demo or a test
   * shows which calls a run really made — e.g. that a resumed run did not repeat finished work.
   */
  private readonly callLog: string | undefined;

  constructor(name = 'mock', options: { callLog?: string } = {}) {
    this.name = name;
    this.callLog = options.callLog ?? process.env.ELEXIRION_MOCK_CALL_LOG;
  }

  capabilities(): Capabilities {
    return CAPABILITIES;
  }

  supports(feature: ProviderFeature): boolean {
    return capabilitySupports(CAPABILITIES, feature);
  }

  // A promise chain, not an async function: one suspended frame fewer per call waiting its latency.
  generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    try {
      const options = (request.extra?.mock ?? {}) as MockOptions;
      const digest = digestOf(request);
      if (options.latencyMs && options.latencyMs > 0) {
        return sleep(options.latencyMs, undefined, { signal }).then(
          () => this.afterLatency(request, options, digest),
          rethrowAbort(this.name, signal),
        );
      }
      if (signal.aborted) rethrowAbort(this.name, signal)(signal.reason);
      return Promise.resolve(this.afterLatency(request, options, digest));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The answer once the latency has passed: a `fail_first` failure, or the response. */
  private afterLatency(request: ModelRequest, options: MockOptions, digest: string): ModelResponse {
    const failFirst = options.failFirst ?? 0;
    if (failFirst > 0) {
      const seen = (this.attempts.get(digest) ?? 0) + 1;
      this.attempts.set(digest, seen);
      if (seen <= failFirst) {
        throw new ProviderError(this.name, 'overloaded', `mock failure ${seen} of ${failFirst} (fail_first)`, {
          status: 529,
        });
      }
    }
    this.calls++;
    const response = this.answer(request, options, digest);
    if (this.callLog)
      appendFileSync(
        this.callLog,
        `${JSON.stringify({ model: request.model, digest, prompt: lastPrompt(request) })}\n`,
      );
    return response;
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    // Word-sized chunks, like a real token stream.
    for (const piece of response.text.match(/\S+\s*/g) ?? [response.text]) yield { type: 'text', text: piece };
    yield { type: 'done', response };
  }

  private answer(request: ModelRequest, options: MockOptions, digest: string): ModelResponse {
    const prompt = request.messages.map((m) => m.content).join('\n');
    let text: string;
    let object: unknown;
    if (request.schema) {
      object =
        options.response !== undefined && typeof options.response === 'object'
          ? options.response
          : mockValueFor(request.schema, seedOf(digest));
      text = JSON.stringify(object);
    } else if (options.response !== undefined) {
      text = typeof options.response === 'string' ? options.response : JSON.stringify(options.response);
    } else {
      const firstLine = (prompt.split('\n').find((l) => l.trim() !== '') ?? '').trim();
      const excerpt = firstLine.length > 80 ? `${firstLine.slice(0, 77)}...` : firstLine;
      text = `[mock ${request.model} #${digest.slice(0, 8)}] ${excerpt}`;
    }
    const response: ModelResponse = {
      text,
      toolCalls: [],
      usage: { inputTokens: estimateTokens((request.system ?? '') + prompt), outputTokens: estimateTokens(text) },
      finishReason: 'stop',
      model: request.model,
      costUsd: 0,
    };
    if (object !== undefined) response.object = object;
    return response;
  }
}

function lastPrompt(request: ModelRequest): string {
  return request.messages[request.messages.length - 1]?.content ?? '';
}

function digestOf(request: ModelRequest): string {
  const mock = (request.extra?.mock ?? {}) as MockOptions;
  // One-shot hash (Node ≥ 20.12): every mock answer is addressed by it.
  return hash(
    'sha256',
    JSON.stringify([request.model, request.system, request.messages, request.schema, mock.response]),
    'hex',
  );
}

function seedOf(digest: string): number {
  return Number.parseInt(digest.slice(0, 8), 16);
}

function rethrowAbort(name: string, signal: AbortSignal) {
  return (error: unknown): never => {
    if (signal.aborted) {
      const reason = signal.reason as { name?: string } | undefined;
      const kind = reason?.name === 'TimeoutError' ? 'timeout' : 'aborted';
      throw new ProviderError(name, kind, kind === 'timeout' ? 'the call timed out' : 'the call was cancelled', {
        cause: error,
      });
    }
    throw error;
  };
}
