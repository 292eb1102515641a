// The one model call the loop makes, as a function: the engine passes one that goes through the
// gates and the call journal; `providerCaller` calls a provider directly (tests, simple embedding).
import type { ModelRequest, ModelResponse, Provider } from '../providers/provider.js';
import { ProviderError } from '../providers/provider-error.js';

export interface CallOptions {
  signal: AbortSignal;
  stream: boolean;
  onChunk?: (text: string) => void;
  /**
   * Whether the answer may answer the same request again (be cached): false for one the call loop
   * rejects — a refusal, a structured answer that does not validate — so that a next run (a resume
   * of the failed step) asks the model again instead of failing on it from the cache.
   */
  reusable?: (response: ModelResponse) => boolean;
}

export type ModelCaller = (request: ModelRequest, opts: CallOptions) => Promise<ModelResponse>;

/** A caller straight to `provider`: `generate`, or `stream` with each text chunk passed to onChunk. */
export function providerCaller(provider: Provider): ModelCaller {
  return async (request, { signal, stream, onChunk }) => {
    if (!stream) return provider.generate(request, signal);
    for await (const chunk of provider.stream(request, signal)) {
      if (chunk.type === 'text') onChunk?.(chunk.text);
      else return chunk.response;
    }
    throw new ProviderError(provider.name, 'connection', 'the stream ended without a final response');
  };
}
