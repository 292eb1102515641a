// The cost of one call from its usage. A model the table does not know has an unknown cost (null),
// never a zero cost: a report that says $0.00 for a paid call would be a lie.
import type { Usage } from '../providers/provider.js';
import { type ModelPrice, PRICE_TABLE, type Vendor } from './price-table.js';

/** Per-model prices as written under `providers.<name>.prices` (snake_case, USD per million tokens). */
export type PriceOverrides = Readonly<
  Record<string, { input: number; output: number; cache_read?: number | undefined; cache_write?: number | undefined }>
>;

const PER_TOKEN = 1 / 1_000_000;

/**
 * USD for one call, or null when the model's price is unknown. `provider` is the provider's name or type
 * (its vendor table is searched first; `mock` is free). Overrides win over the table.
 */
export function priceCall(provider: string, model: string, usage: Usage, overrides?: PriceOverrides): number | null {
  if (provider === 'mock') return 0;
  const found = findPrice(provider, model, overrides);
  if (!found) return null;
  const long = found.longContext;
  const price = long && usage.inputTokens > long.above ? long : found;
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const uncached = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const usd =
    uncached * price.input +
    cacheRead * (price.cacheRead ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return usd * PER_TOKEN;
}

/** The price of a model: an override, else the table; dated ids (`…-20250929`) match their base id. */
export function findPrice(provider: string, model: string, overrides?: PriceOverrides): ModelPrice | undefined {
  const id = normaliseModelId(model);
  if (overrides) {
    const table = Object.fromEntries(
      Object.entries(overrides).map(([k, p]) => [
        normaliseModelId(k),
        {
          input: p.input,
          output: p.output,
          ...(p.cache_read === undefined ? {} : { cacheRead: p.cache_read }),
          ...(p.cache_write === undefined ? {} : { cacheWrite: p.cache_write }),
        },
      ]),
    );
    const hit = lookup(table, id);
    if (hit) return hit;
  }
  const vendors = Object.keys(PRICE_TABLE) as Vendor[];
  const ordered = vendors.includes(provider as Vendor)
    ? [provider as Vendor, ...vendors.filter((v) => v !== provider)]
    : vendors;
  for (const vendor of ordered) {
    const hit = lookup(PRICE_TABLE[vendor], id);
    if (hit) return hit;
  }
  return undefined;
}

/** `models/gemini-2.5-flash` → `gemini-2.5-flash`; Vertex's `claude-sonnet-4-5@20250929` → `…-20250929`. */
function normaliseModelId(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^models\//, '')
    .replace('@', '-');
}

/** Exact id, else the longest known id followed only by version tokens (a date, `latest`, `preview`, `001`). */
function lookup(table: Readonly<Record<string, ModelPrice>>, id: string): ModelPrice | undefined {
  const exact = table[id];
  if (exact) return exact;
  let best: string | undefined;
  for (const known of Object.keys(table)) {
    if (!id.startsWith(`${known}-`)) continue;
    if (!isVersionSuffix(id.slice(known.length + 1))) continue;
    if (!best || known.length > best.length) best = known;
  }
  return best ? table[best] : undefined;
}

/**
 * True for suffixes that only date or label a release: `20250929`, `2024-08-06`, `latest`,
 * `preview-09-2025`, `001`. A single digit is not one: `claude-opus-4-6` is a new model, not `claude-opus-4`.
 */
function isVersionSuffix(suffix: string): boolean {
  const tokens = suffix.split('-');
  return tokens.every((token, i) => {
    if (['latest', 'preview', 'exp'].includes(token)) return true;
    if (/^\d{3,}$/.test(token)) return true;
    return /^\d{2}$/.test(token) && i > 0;
  });
}
