// `elexirion runs` lists runs; `elexirion runs show RUN_ID` shows one, step by step. Their flags and
// help here; what they do in actions/runs.ts and actions/runs-show.ts, imported when one of them
// runs (see index.ts).
import { normalizeRunId } from '../../engine/run-id.js';
import { RUN_STATUSES } from '../../journal/store.js';
import type { ListFlags } from '../actions/runs.js';
import type { RegisterCommand } from './index.js';

export const registerRuns: RegisterCommand = (program, ctx) => {
  const runs = program
    .command('runs')
    .description('list the runs in the journal, newest first')
    .option('--json', 'print JSON')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('-n, --limit <n>', 'how many runs', '20')
    .addHelpText(
      'after',
      `
Exit codes: 0 listed (none too: where there is no journal, it says so), 2 a usage mistake, 69 the
journal cannot be opened.`,
    )
    .action(async (flags: ListFlags) => {
      const { listRuns } = await import('../actions/runs.js');
      await listRuns(flags, ctx);
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
      const { showRun } = await import('../actions/runs-show.js');
      await showRun(runId, { json: flags.json ?? parent.json ?? false, db: flags.db ?? parent.db }, ctx);
    });
};
