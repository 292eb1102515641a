// Sums usage and cost over the calls of one LLM step (tool turns and repairs included).
import type { PriceOverrides } from '../pricing/price-call.js';
import { priceCall } from '../pricing/price-call.js';
import type { ModelResponse, Usage } from '../providers/provider.js';
import { addUsage } from '../providers/usage.js';

export class UsageTotal {
  usage: Usage = { inputTokens: 0, outputTokens: 0 };
  /** Null as soon as one call could not be priced: a partial sum would understate the spend. */
  costUsd: number | null = 0;
  calls = 0;

  constructor(
    private readonly provider: string,
    private readonly overrides?: PriceOverrides,
  ) {}

  add(response: ModelResponse): void {
    this.calls += 1;
    const u = response.usage;
    const estimated = this.usage.estimated || u.estimated;
    this.usage = addUsage(this.usage, u);
    // One estimated call (its server reported no usage) makes the sum an estimate too.
    if (estimated) this.usage.estimated = true;
    const cost = response.costUsd ?? priceCall(this.provider, response.model, u, this.overrides);
    this.costUsd = this.costUsd === null || cost === null ? null : this.costUsd + cost;
  }
}
