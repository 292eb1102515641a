// A provider whose vendor SDK is imported on its first call. The three SDKs weigh about 60 MB of
// heap together; a run that uses one of them (or only the mock, or only `validate`) should not
// carry the others.
import type { Capabilities, ModelRequest, ModelResponse, Provider, ProviderFeature, StreamChunk } from './provider.js';
import { capabilitySupports } from './provider.js';

export class LazyProvider implements Provider {
  private loading?: Promise<Provider>;

  constructor(
    readonly name: string,
    private readonly caps: Capabilities,
    private readonly load: () => Promise<Provider>,
    readonly endpoint?: string,
  ) {}

  capabilities(): Capabilities {
    return { ...this.caps };
  }

  supports(feature: ProviderFeature): boolean {
    return capabilitySupports(this.caps, feature);
  }

  async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    return (await this.provider()).generate(request, signal);
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    yield* (await this.provider()).stream(request, signal);
  }

  private provider(): Promise<Provider> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined; // a failed import may succeed later (e.g. after an install)
      throw error;
    });
    return this.loading;
  }
}
