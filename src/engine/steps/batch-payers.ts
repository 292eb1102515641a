// Who pays for a batch item's calls (CallRecord.paidBy), for paid-hit accounting (model-caller.ts):
// an item's answer paid in an execution that crashed before the item's row was journaled, found in
// the cache when the item runs again, counts as paid — its cost is the item's — not as a saving.
//
// Steps tell whether a paid hit is billed already by the executions their failed record lists
// (step-runner.ts). An item's row lists none: it keeps its bill as numbers, and a row that replaces
// a failed one adds that row's bill (addEarlierSpend), so its `attempts` only ever grow (a failed
// row counts at least one). The payer of an item run again after a failure names the attempts of
// the row it found — its mark, `EXECUTION@ATTEMPTS` — and a hit is billed already when the row has
// changed since: any row written after the call is this item's again, and carries that bill (its
// execution journaled the item, or a later one that counted the call as a paid hit). A row as it
// was when the call was paid has no part of it.

import { payerOf } from '../../resilience/model-caller.js';
import type { RunContext } from '../run-context.js';
import type { EarlierSpend } from './batch-journal.js';

/** An item's key among its run's calls: its batch's key and its index (`each[3]`). */
export function itemKey(stepKey: string, index: number): string {
  return `${stepKey}[${index}]`;
}

const CLOSE_BRACKET = 0x5d;
const NOTHING = (): void => {};

/** The payers of the items of the batches a run's context runs here (not a cluster's chunks). */
export class ItemPayers {
  /**
   * The `attempts` of the journaled failed row of each item a batch runs again, by item key. Only
   * those: an item with no row (most) is found by one look at an empty map, or none at all.
   */
  private readonly rows = new Map<string, number>();

  constructor(private readonly run: Pick<RunContext, 'id' | 'execution' | 'forgotSteps'>) {}

  /**
   * Notes the failed rows a batch found (by index): its items run again under those marks. The
   * function returned forgets them, when the batch is over.
   */
  open(stepKey: string, failed: ReadonlyMap<number, EarlierSpend>): () => void {
    if (failed.size === 0) return NOTHING;
    const keys: string[] = [];
    for (const [index, row] of failed) {
      const key = itemKey(stepKey, index);
      this.rows.set(key, row.attempts);
      keys.push(key);
    }
    return () => {
      for (const key of keys) this.rows.delete(key);
    };
  }

  /**
   * The payer of the calls made under `key`, when it is an item's (an item key ends with `]`; a
   * step's never does: its name is an identifier); else undefined.
   */
  payerOf(key: string): string | undefined {
    if (key.charCodeAt(key.length - 1) !== CLOSE_BRACKET) return undefined;
    const row = this.rows.size === 0 ? undefined : this.rows.get(key);
    const { id, execution } = this.run;
    return payerOf(id, key, row === undefined ? execution : `${execution}@${row}`);
  }

  /**
   * Whether item `key`'s journaled row carries what `paid` (an execution and its mark, as `payerOf`
   * wrote it) paid for: it changed since. Asked only on a hit paid by the item in another execution.
   * A run `resume --force` forgot steps of keeps their spend as a whole, items' rows included: a
   * forgotten batch's answers found again are in it (as for steps, model-caller-for.ts).
   */
  readonly billedAlready = async (paid: string, key: string): Promise<boolean> => {
    if (await this.run.forgotSteps()) return true;
    const at = paid.indexOf('@');
    const then = at === -1 ? undefined : Number(paid.slice(at + 1));
    return this.rows.get(key) !== then;
  };
}
