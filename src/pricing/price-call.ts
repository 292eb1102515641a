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
 * A write to Anthropic's 1-hour prompt cache costs twice the input price (a 5-minute write, the
 * table's `cacheWrite`, 1.25 times): one rule for every model and for the long-context rate, so it
 * is not a column of the table.
 */
export const ONE_HOUR_CACHE_WRITE_FACTOR = 2;

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
  // The 1-hour writes are a part of the writes: the rest are 5-minute ones, at the table's rate.
  const cacheWrite1h = Math.min(usage.cacheWrite1hTokens ?? 0, cacheWrite);
  const uncached = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const usd =
    uncached * price.input +
    cacheRead * (price.cacheRead ?? price.input) +
    (cacheWrite - cacheWrite1h) * (price.cacheWrite ?? price.input) +
    cacheWrite1h * price.input * ONE_HOUR_CACHE_WRITE_FACTOR +
    usage.outputTokens * price.output;
  return usd * PER_TOKEN;
}

/**
 * The price of a model: an override, else the table. An id a table names (`gpt-4o-2024-05-13`, a
 * snapshot with a price of its own) is priced as named, before any base-model fallback; then dated
 * and aliased ids (`…-20250929`, `claude-opus-4-0`) match their base id. An override wins over the
 * table at each of the two steps.
 */
export function findPrice(provider: string, model: string, overrides?: PriceOverrides): ModelPrice | undefined {
  const id = normaliseModelId(model);
  const tables: Readonly<Record<string, ModelPrice>>[] = [];
  if (overrides) {
    tables.push(
      Object.fromEntries(
        Object.entries(overrides).map(([k, p]) => [
          normaliseModelId(k),
          {
            input: p.input,
            output: p.output,
            ...(p.cache_read === undefined ? {} : { cacheRead: p.cache_read }),
            ...(p.cache_write === undefined ? {} : { cacheWrite: p.cache_write }),
          },
        ]),
      ),
    );
  }
  const vendors = Object.keys(PRICE_TABLE) as Vendor[];
  const ordered = vendors.includes(provider as Vendor)
    ? [provider as Vendor, ...vendors.filter((v) => v !== provider)]
    : vendors;
  for (const vendor of ordered) tables.push(PRICE_TABLE[vendor]);
  for (const table of tables) {
    if (Object.hasOwn(table, id)) return table[id];
  }
  for (const table of tables) {
    const base = baseModel(table, id);
    if (base) return table[base];
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

/**
 * The longest id of `table` that `id` only dates, labels or aliases: the known id followed by
 * version tokens (a date, `latest`, `preview`, `exp`, `001`), or by `-0` where the known id ends in
 * a major version (Anthropic's aliases `claude-opus-4-0`, `claude-sonnet-4-0` are Opus 4 and
 * Sonnet 4, i.e. 4.0).
 */
function baseModel(table: Readonly<Record<string, ModelPrice>>, id: string): string | undefined {
  let best: string | undefined;
  for (const known of Object.keys(table)) {
    if (!id.startsWith(`${known}-`)) continue;
    if (!isVersionSuffix(id.slice(known.length + 1), /-\d$/.test(known))) continue;
    if (!best || known.length > best.length) best = known;
  }
  return best;
}

/**
 * True for suffixes that only date or label a release: `20250929`, `2024-08-06`, `latest`,
 * `preview-09-2025`, `001`. A single digit is not one — `claude-opus-4-6` is a new model, not
 * `claude-opus-4` — except a first `0` after a major version (`afterMajor`): `claude-opus-4-0` is 4.0.
 */
function isVersionSuffix(suffix: string, afterMajor: boolean): boolean {
  const tokens = suffix.split('-');
  return tokens.every((token, i) => {
    if (['latest', 'preview', 'exp'].includes(token)) return true;
    if (/^\d{3,}$/.test(token)) return true;
    if (token === '0' && i === 0 && afterMajor) return true;
    return /^\d{2}$/.test(token) && i > 0;
  });
}
