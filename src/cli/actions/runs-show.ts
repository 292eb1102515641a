// What `elexirion runs show RUN_ID` does (commands/runs.ts defines its flags): loaded when it runs.
import { endIfOrphaned } from '../../engine/orphaned-runs.js';
import { buildRunResult, journalOf, type RunResult } from '../../engine/run-result.js';
import { UsageError } from '../../errors.js';
import type { ItemTotals } from '../../journal/store.js';
import type { CliContext } from '../context.js';
import { count } from '../format.js';
import { openStore } from '../open-store.js';
import { printRunSummary, printSteps } from '../print-run.js';
import { readingJournalOnce } from './read-once-store.js';

/** `elexirion runs show RUN_ID`: one run, step by step (`json`, `db`: its flags and its parent's). */
export async function showRun(runId: string, flags: { json: boolean; db?: string }, ctx: CliContext): Promise<void> {
  const opened = await openStore(flags.db, ctx, { existing: true });
  // Ending a killed run reads its journal, as the report does: one read serves both.
  const store = readingJournalOnce(opened, runId);
  try {
    let record = await store.getRun(runId);
    if (!record) throw new UsageError(`no run with id ${runId}`, 'list runs with `elexirion runs`');
    if (await endIfOrphaned(store, record)) record = (await store.getRun(runId)) ?? record;
    const { steps, items } = await journalOf(store, record);
    const result = buildRunResult(record, steps, items);
    if (flags.json) {
      ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    printSteps(result, ctx);
    if (record.status !== 'succeeded') {
      // journalOf read them already for a run not ended; an ended one's are read here (a killed
      // one's were, as it was ended: the read-once view answers from that read).
      const batches = record.finishedAt === undefined ? items : await store.itemTotals(runId);
      printUnfinishedBatches(batches, result, ctx);
    }
    printRunSummary(result, ctx);
  } finally {
    await store.close();
  }
}

/**
 * The batches a stopped run left half-done: they have no step row yet, but their finished items are
 * journaled — what a resume will not run again, which is what the user deciding to resume wants to know.
 */
function printUnfinishedBatches(batches: ItemTotals[], result: RunResult, ctx: CliContext): void {
  const finished = new Set(result.steps.filter((s) => s.status === 'succeeded').map((s) => s.key));
  for (const batch of batches) {
    if (finished.has(batch.stepKey) || batch.items === 0) continue;
    ctx.stdout.write(
      `${batch.stepKey}  ${ctx.colors.yellow('unfinished')}: ${count(batch.items, 'item')} journaled — a resume runs only the others\n`,
    );
  }
}
