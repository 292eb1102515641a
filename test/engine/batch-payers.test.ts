// Who pays for a batch item's calls, and when a paid hit is the item's row's already.
import { describe, expect, it } from 'vitest';
import type { EarlierSpend } from '../../src/engine/steps/batch-journal.js';
import { ItemPayers, itemKey } from '../../src/engine/steps/batch-payers.js';
import { payerOf } from '../../src/resilience/model-caller.js';

const row = (attempts: number): EarlierSpend => ({
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0.01,
  attempts,
  unpricedCalls: 0,
});

function payers(forgot = false) {
  return new ItemPayers({ id: 'run-1', execution: 'e2', forgotSteps: async () => forgot });
}

describe('ItemPayers', () => {
  it("names an item's own payer, marked with the attempts of the failed row it runs again after", () => {
    const p = payers();
    expect(p.payerOf(itemKey('each', 3))).toBe(payerOf('run-1', 'each[3]', 'e2'));
    // A step's key (an identifier, a nested path) is no item's: its calls are the step's.
    expect(p.payerOf('each')).toBeUndefined();
    expect(p.payerOf('parent/each')).toBeUndefined();
    const close = p.open('each', new Map([[3, row(2)]]));
    expect(p.payerOf('each[3]')).toBe(payerOf('run-1', 'each[3]', 'e2@2'));
    expect(p.payerOf('each[4]')).toBe(payerOf('run-1', 'each[4]', 'e2'));
    close();
    expect(p.payerOf('each[3]')).toBe(payerOf('run-1', 'each[3]', 'e2'));
  });

  it('says a hit is billed already when the row changed since it was paid, not while it is as it was', async () => {
    const p = payers();
    p.open('each', new Map([[3, row(2)]]));
    // Paid with no row, or under a row of 1 attempt: a row written since carries that bill.
    expect(await p.billedAlready('e1', 'each[3]')).toBe(true);
    expect(await p.billedAlready('e1@1', 'each[3]')).toBe(true);
    // Paid under the row the journal still has: nothing carries it.
    expect(await p.billedAlready('e1@2', 'each[3]')).toBe(false);
    // An item with no row, paid with none: its execution crashed before journaling it.
    expect(await p.billedAlready('e1', 'each[4]')).toBe(false);
  });

  it('counts every hit billed in a run `resume --force` forgot steps of (their spend is kept whole)', async () => {
    expect(await payers(true).billedAlready('e1', 'each[4]')).toBe(true);
  });
});
