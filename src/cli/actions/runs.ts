// What `elexirion runs` does (commands/runs.ts defines its flags): loaded when it runs. `runs show`
// is runs-show.ts: it prints outputs (YAML), which a list does not.
import { interruptOrphanedRuns } from '../../engine/orphaned-runs.js';
import { currentTotals, round } from '../../engine/run-result.js';
import { UsageError } from '../../errors.js';
import { RUN_STATUSES, type RunStatus } from '../../journal/store.js';
import type { CliContext } from '../context.js';
import { formatDuration, formatPartialCost } from '../format.js';
import { NoJournalError, openStore } from '../open-store.js';
import { numberOption } from '../option-values.js';

const STATUSES = RUN_STATUSES;

export interface ListFlags {
  json?: boolean;
  db?: string;
  status?: string;
  limit: string;
}

/** `elexirion runs`: the runs in the journal, newest first. */
export async function listRuns(flags: ListFlags, ctx: CliContext): Promise<void> {
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
}
