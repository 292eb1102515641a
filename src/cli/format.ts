// Human formats shared by every command that prints runs: one place decides how a cost looks.
import type { Usage } from '../providers/provider.js';

/**
 * A duration in the largest fitting unit. Rounded to the precision shown *before* it is split into
 * units, so that a value just under a boundary carries over (`1m59.6s` → `2m0s`, never `1m60s`).
 */
export function formatDuration(ms: number): string {
  const wholeMs = Math.round(ms);
  if (wholeMs < 1000) return `${wholeMs}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** A cost: `$0.0123`; `$?` when unknown (an unpriced model) — never a misleading `$0`. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '$?';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTokens(usage: Usage | { input_tokens: number; output_tokens: number }): string {
  const input = 'inputTokens' in usage ? usage.inputTokens : usage.input_tokens;
  const output = 'outputTokens' in usage ? usage.outputTokens : usage.output_tokens;
  return `${input}→${output} tok`;
}
