// Whose limit a session's spending cap (Claude Code's `maxBudgetUsd`) is, which decides what a stop
// there means: at what was left of the run's budget, the run's budget stop (ClaudeCodeBudgetError,
// which no `on_error` absorbs); at the step's own `max_cost_usd`, the step's failure
// (ClaudeCodeCostLimitError: its `fallback` and `on_error: continue` apply). `step` is the step
// named in that error.
export type BudgetCap = { of: 'run' } | { of: 'step'; maxCostUsd: number; step?: string };
