// Adding up what calls used: one sum for every place that does (a step's calls, a batch's items, a
// Claude Code session's model calls). Cache tokens are kept when there are any.
import type { Usage } from './provider.js';

export function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  const cacheRead = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  const cacheWrite = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  const cacheWrite1h = (a.cacheWrite1hTokens ?? 0) + (b.cacheWrite1hTokens ?? 0);
  if (cacheRead > 0) sum.cacheReadTokens = cacheRead;
  if (cacheWrite > 0) sum.cacheWriteTokens = cacheWrite;
  if (cacheWrite1h > 0) sum.cacheWrite1hTokens = cacheWrite1h;
  return sum;
}
