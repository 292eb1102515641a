// Sums usage and cost over the calls of one LLM step (tool turns and repairs included).
import type { PriceOverrides } from '../pricing/price-call.js';
import { priceCall } from '../pricing/price-call.js';
import type { ModelResponse, Usage } from '../providers/provider.js';
import { addUsage } from '../providers/usage.js';

export class UsageTotal {
  usage: Usage = { inputTokens: 0, outputTokens: 0 };
  /** What the priced calls cost: the known part, kept whatever the other calls were. */
  knownCostUsd = 0;
  /** Calls that could not be priced (a model missing from the price table): not in the cost. */
  unpricedCalls = 0;
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
    if (cost === null) this.unpricedCalls += 1;
    else this.knownCostUsd += cost;
  }

  /**
   * The calls' cost: what the priced ones cost — one unpriced call (a fallback model, a repair
   * answered by another) must not make what the others were paid unknown, `unpricedCalls` says
   * that part is missing — or null when none was priced (unknown, never a misleading $0).
   */
  get costUsd(): number | null {
    return this.unpricedCalls > 0 && this.unpricedCalls === this.calls ? null : this.knownCostUsd;
  }
}
