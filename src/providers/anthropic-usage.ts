// Anthropic's prompt-cache writes come in two lifetimes, billed apart: `cache_creation` splits
// `cache_creation_input_tokens` into 5-minute and 1-hour writes (a 1-hour write costs more, see
// pricing/price-call.ts). One reading for the Anthropic provider and Claude Code's sessions.

/** The part of Anthropic's usage that splits the cache writes (null or absent on older answers). */
export interface CacheCreationUsage {
  cache_creation?: { ephemeral_1h_input_tokens?: number | null } | null;
}

/** The 1-hour cache writes of a call's usage; 0 when none, or when the API does not split them. */
export function cacheWrite1hOf(usage: CacheCreationUsage | undefined | null): number {
  const tokens = usage?.cache_creation?.ephemeral_1h_input_tokens;
  return typeof tokens === 'number' && tokens > 0 ? tokens : 0;
}
