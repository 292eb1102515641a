// Anthropic's extended thinking counts in a request's output cap, and the API refuses a max_tokens
// not above `thinking.budget_tokens`: wherever a cap is chosen for a request that names none — the
// provider's default (anthropic.ts), the cap a budget assumes and sends (budget/estimate.ts) — it
// leaves room for this.

/** The tokens `thinking` (a request's extras' field) reserves for thinking: 0 when it is off or has no budget. */
export function thinkingBudgetOf(thinking: unknown): number {
  const { type, budget_tokens: budget } = (thinking ?? {}) as { type?: unknown; budget_tokens?: unknown };
  const on = typeof type === 'string' && type !== 'disabled';
  return on && typeof budget === 'number' && Number.isFinite(budget) && budget > 0 ? budget : 0;
}
