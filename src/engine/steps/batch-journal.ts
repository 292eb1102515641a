// What the journal knows about a batch's items: which ones already succeeded (a resume skips them),
// and, at the end, the step's output assembled from the item records page by page — so that no
// more than one page of results is read into memory besides the output list itself.

import { type ItemRecord, itemUnpricedCalls, type Store } from '../../journal/store.js';
import type { Usage } from '../../providers/provider.js';
import { addCost, addUsage, NO_USAGE } from '../step-handler.js';

const PAGE = 2_000;

/** What an item that failed in an earlier attempt of the run had paid for. */
export interface EarlierSpend {
  usage: Usage;
  costUsd: number | null;
  attempts: number;
  /** Absent: journaled by an Elexirion that did not keep an item's calls. */
  calls?: number;
  /** Its calls of unknown price: not in `costUsd`. */
  unpricedCalls: number;
}

/** What the journal's record of an item that failed says it paid for. */
export function earlierSpendOf(item: ItemRecord): EarlierSpend {
  const earlier: EarlierSpend = {
    usage: item.usage,
    costUsd: item.costUsd,
    attempts: item.attempts,
    // An older row of unknown cost counted none: it stands for one, which the new row (whose known
    // cost hides the earlier NULL) must keep counting.
    unpricedCalls: itemUnpricedCalls(item),
  };
  if (item.calls !== undefined) earlier.calls = item.calls;
  return earlier;
}

/** `record` replaces the row of an item that failed earlier: it keeps that attempt's bill. */
export function addEarlierSpend(record: ItemRecord, earlier: EarlierSpend): void {
  record.usage = addUsage(record.usage, earlier.usage);
  record.costUsd = addCost(record.costUsd, earlier.costUsd);
  record.attempts += earlier.attempts;
  if (earlier.calls !== undefined) record.calls = (record.calls ?? 0) + earlier.calls;
  if (earlier.unpricedCalls > 0) record.unpricedCalls = (record.unpricedCalls ?? 0) + earlier.unpricedCalls;
}

export interface JournaledItems {
  /** One flag per item: 1 when the journal has it as succeeded. Undefined when none has. */
  flags: Uint8Array | undefined;
  count: number;
  /**
   * The bills of the items journaled as failed, by index: running such an item again replaces its
   * row, which must keep what the failed attempt spent. Only failed items are kept (few, usually).
   */
  failed: Map<number, EarlierSpend>;
}

export async function succeededItems(
  store: Store,
  runId: string,
  stepKey: string,
  total: number,
): Promise<JournaledItems> {
  const counts = await store.countItems(runId, stepKey);
  const failed = new Map<number, EarlierSpend>();
  if (counts.succeeded === 0 && counts.failed === 0 && counts.stopped === 0)
    return { flags: undefined, count: 0, failed };
  const flags = counts.succeeded === 0 ? undefined : new Uint8Array(total);
  let count = 0;
  await forEachPage(store, runId, stepKey, total, (item) => {
    if (item.index >= total) return;
    if (item.status === 'succeeded' && flags) {
      flags[item.index] = 1;
      count++;
    } else if (item.status === 'failed') {
      failed.set(item.index, earlierSpendOf(item));
    }
  });
  return { flags, count, failed };
}

export interface AssembledBatch {
  /** Item outputs in item order; null for an item that failed (or never ran). */
  output: unknown[];
  usage: Usage;
  /** What the items cost at a known price; null when no item's cost is known. */
  costUsd: number | null;
  /** The items' calls of unknown price (not in `costUsd`). */
  unpricedCalls: number;
  /** The calls of the items that record theirs. */
  calls: number;
  succeeded: number;
  failed: number;
  /** The first few failures, for the step's details. */
  errors: { index: number; error: string }[];
}

/**
 * A batch's output and totals, item by item: from the journal's pages (assembleBatch), or — for a
 * batch run from scratch in this process — from the item records as they are journaled, which spares
 * reading them all back at the step's end (~5 µs an item, most of a fan-out's tail).
 */
export class BatchAssembly {
  readonly result: AssembledBatch;

  constructor(
    total: number,
    private readonly maxErrors = 10,
  ) {
    this.result = {
      output: new Array<unknown>(total).fill(null),
      usage: NO_USAGE,
      costUsd: 0,
      unpricedCalls: 0,
      calls: 0,
      succeeded: 0,
      failed: 0,
      errors: [],
    };
  }

  /** Keeps the first failures by item order, whatever order they are added in (the journal's order). */
  private noteError(index: number, error: string): void {
    const { errors } = this.result;
    if (errors.length >= this.maxErrors && index > (errors.at(-1)?.index ?? -1)) return;
    let at = errors.length;
    while (at > 0 && (errors[at - 1]?.index ?? -1) > index) at--;
    errors.splice(at, 0, { index, error });
    if (errors.length > this.maxErrors) errors.pop();
  }

  add(item: ItemRecord): void {
    const result = this.result;
    result.usage = addUsage(result.usage, item.usage);
    result.costUsd = addCost(result.costUsd, item.costUsd);
    result.unpricedCalls += itemUnpricedCalls(item);
    result.calls += item.calls ?? 0;
    if (item.status === 'succeeded') {
      result.output[item.index] = item.output ?? null;
      result.succeeded++;
    } else {
      result.failed++;
      this.noteError(item.index, item.error ?? 'failed');
    }
  }
}

export async function assembleBatch(
  store: Store,
  runId: string,
  stepKey: string,
  total: number,
  maxErrors = 10,
): Promise<AssembledBatch> {
  const assembly = new BatchAssembly(total, maxErrors);
  await forEachPage(store, runId, stepKey, total, (item) => assembly.add(item));
  return assembly.result;
}

async function forEachPage(
  store: Store,
  runId: string,
  stepKey: string,
  total: number,
  visit: (item: ItemRecord) => void,
): Promise<void> {
  for (let from = 0; from < total; from += PAGE) {
    for (const item of await store.getItems(runId, stepKey, { from, to: Math.min(total, from + PAGE) })) visit(item);
  }
}
