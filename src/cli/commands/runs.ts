// `elexirion runs` lists runs; `elexirion runs show RUN_ID` shows one, step by step.

import { endIfOrphaned, interruptOrphanedRuns } from '../../engine/orphaned-runs.js';
import { normalizeRunId } from '../../engine/run-id.js';
import { buildRunResult, currentTotals, journalOf, type RunResult, round } from '../../engine/run-result.js';
import { UsageError } from '../../errors.js';
import { type ItemTotals, RUN_STATUSES, type RunStatus } from '../../journal/store.js';
import type { CliContext } from '../context.js';
import { count, formatDuration, formatPartialCost } from '../format.js';
import { NoJournalError, openStore } from '../open-store.js';
import { numberOption } from '../option-values.js';
import { printRunSummary, printSteps } from '../print-run.js';
import type { RegisterCommand } from './index.js';
import { readingJournalOnce } from './read-once-store.js';

const STATUSES = RUN_STATUSES;

export const registerRuns: RegisterCommand = (program, ctx) => {
  const runs = program
    .command('runs')
    .description('list the runs in the journal, newest first')
    .option('--json', 'print JSON')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--status <status>', `only runs with this status (${STATUSES.join(', ')})`)
    .option('-n, --limit <n>', 'how many runs', '20')
    .addHelpText(
      'after',
      `
Exit codes: 0 listed (none too: where there is no journal, it says so), 2 a usage mistake, 69 the
journal cannot be opened.`,
    )
    .action(async (flags: { json?: boolean; db?: string; status?: string; limit: string }) => {
      if (flags.status !== undefined && !STATUSES.includes(flags.status as RunStatus)) {
        throw new UsageError(`unknown status "${flags.status}"`, `use one of ${STATUSES.join(', ')}`);
      }
      const limit = numberOption('--limit', flags.limit, {
        expected: 'a whole number of runs (1 or more)',
        min: 1,
        hint: 'e.g. --limit 50',
      });
      let store: Awaited<ReturnType<typeof openStore>>;
      try {
        store = await openStore(flags.db, ctx, { existing: true });
      } catch (error) {
        if (!(error instanceof NoJournalError)) throw error;
        // Nothing recorded there yet: an empty list, saying where it looked.
        ctx.stdout.write(flags.json ? '[]\n' : `no runs yet: there is no journal at ${error.path}\n`);
        return;
      }
      try {
        // A run whose process was killed is `running` in the journal until someone says otherwise.
        await interruptOrphanedRuns(store).catch(() => []);
        const list = await store.listRuns({ limit, ...(flags.status ? { status: flags.status as RunStatus } : {}) });
        const rows = [];
        for (const r of list) {
          // A running or killed run's row has no totals yet: its journal has them.
          const totals = await currentTotals(store, r);
          rows.push({
            id: r.id,
            pipeline: r.pipelineName,
            status: r.status,
            started: new Date(r.startedAt).toISOString(),
            duration_ms: r.finishedAt === undefined ? null : r.finishedAt - r.startedAt,
            // Rounded as run --json, runs show --json and the HTTP API round it: one cost per run.
            cost_usd: round(totals.costUsd),
            unpriced_calls: totals.unpricedCalls,
          });
        }
        if (flags.json) {
          ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          // Runs of other statuses may be there: "no runs yet" would say the journal is empty.
          const any = flags.status !== undefined && (await store.listRuns({ limit: 1 })).length > 0;
          ctx.stdout.write(
            any
              ? `no ${flags.status} runs: \`elexirion runs\` lists the runs of every status\n`
              : 'no runs yet: start one with `elexirion run FILE`\n',
          );
          return;
        }
        ctx.stdout.write(
          `${ctx.colors.bold('id                          pipeline              status       started               duration  cost')}\n`,
        );
        for (const r of rows) {
          const cost = formatPartialCost(r.cost_usd, r.unpriced_calls);
          ctx.stdout.write(
            `${r.id}  ${r.pipeline.padEnd(20).slice(0, 20)}  ${r.status.padEnd(11)}  ${r.started.slice(0, 19).replace('T', ' ')}  ${(r.duration_ms === null ? '-' : formatDuration(r.duration_ms)).padStart(8)}  ${cost}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });

  runs
    .command('show')
    .description(
      'show one run: status, outputs, and every step (status, attempts, duration, tokens, cost, retries, cache hits)',
    )
    .argument('<run-id>', 'the run', normalizeRunId)
    .option('--json', 'print the run as JSON')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .addHelpText(
      'after',
      '\nExit codes: 0 shown, 2 no such run (or no journal at --db), 69 the journal cannot be opened.',
    )
    .action(async (runId: string, flags: { json?: boolean; db?: string }) => {
      // `runs` has the same options: commander gives them to it when they come before `show`, and
      // also when they follow it — `runs show ID --json` must not print the table.
      const parent = runs.opts<{ db?: string; json?: boolean }>();
      const json = flags.json ?? parent.json ?? false;
      const opened = await openStore(flags.db ?? parent.db, ctx, { existing: true });
      // Ending a killed run reads its journal, as the report does: one read serves both.
      const store = readingJournalOnce(opened, runId);
      try {
        let record = await store.getRun(runId);
        if (!record) throw new UsageError(`no run with id ${runId}`, 'list runs with `elexirion runs`');
        if (await endIfOrphaned(store, record)) record = (await store.getRun(runId)) ?? record;
        const { steps, items } = await journalOf(store, record);
        const result = buildRunResult(record, steps, items);
        if (json) {
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
    });
};

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
