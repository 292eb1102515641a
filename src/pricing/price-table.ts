// USD per million tokens, as published by the vendors on their pricing pages
// (anthropic.com/pricing, ai.google.dev/gemini-api/docs/pricing, openai.com/api/pricing).
// Prices taken on 2025-11-20 (standard tier; where the price depends on the prompt's length — Gemini
// 2.5 Pro, Claude Sonnet 4 and 4.5 with the 1M-token context — `longContext` holds the price of a
// prompt above 200k tokens; batch and flex tiers are not modelled). Update this table when vendors
// change prices; users can override any entry with `providers.<name>.prices` in a pipeline (an
// override has one price, whatever the prompt's length).
//
// Keys are base ids: a dated or aliased id (`claude-sonnet-4-5-20250929`, `claude-opus-4-0`,
// `gpt-4o-2024-08-06`) is priced as its base (price-call.ts). A snapshot the vendor prices apart
// from its base has an entry of its own, which always wins over that fallback.

export interface ModelPrice {
  input: number;
  output: number;
  /** Reading cached prompt tokens; when absent, cached reads cost the input price. */
  cacheRead?: number;
  /**
   * Writing the prompt cache (Anthropic, 5-minute TTL); when absent, the input price. A 1-hour write
   * costs twice the input price (price-call.ts).
   */
  cacheWrite?: number;
  /**
   * The prices of the whole call when its prompt (cache reads and writes included) has more than
   * `above` tokens: the vendor bills every token of such a call at the higher rate.
   */
  longContext?: { above: number } & Omit<ModelPrice, 'longContext'>;
}

const LONG_SONNET = { above: 200_000, input: 6, output: 22.5, cacheRead: 0.6, cacheWrite: 7.5 };

export type Vendor = 'anthropic' | 'gemini' | 'openai';

export const PRICE_TABLE: Readonly<Record<Vendor, Readonly<Record<string, ModelPrice>>>> = {
  anthropic: {
    'claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
    'claude-opus-4-1': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
    'claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
    'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, longContext: LONG_SONNET },
    'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, longContext: LONG_SONNET },
    'claude-3-7-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
    'claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
    'claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
    'claude-3-haiku': { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 },
  },
  gemini: {
    'gemini-2.5-pro': {
      input: 1.25,
      output: 10,
      cacheRead: 0.125,
      longContext: { above: 200_000, input: 2.5, output: 15, cacheRead: 0.25 },
    },
    'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.03 },
    'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cacheRead: 0.01 },
    'gemini-2.0-flash': { input: 0.1, output: 0.4, cacheRead: 0.025 },
    'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
  },
  openai: {
    'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
    'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
    'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
    'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
    'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
    // gpt-4o's first snapshot keeps its launch price, and has no cached-input discount.
    'gpt-4o-2024-05-13': { input: 5, output: 15 },
    'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
    o3: { input: 2, output: 8, cacheRead: 0.5 },
    'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  },
};
