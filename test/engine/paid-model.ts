// A mock that bills $0.01 a call, as a vendor would, and counts the calls it answered: what the
// money tests compare a run's totals with.
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';

export class PaidModel extends MockProvider {
  paid = 0;
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const response = await super.generate(request, signal);
    this.paid++;
    return { ...response, costUsd: 0.01 };
  }
}
