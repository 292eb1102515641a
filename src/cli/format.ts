// Human formats shared by every command that prints runs: one place decides how a cost looks.
import type { Usage } from '../providers/provider.js';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
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
