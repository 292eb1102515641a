// `elexirion resume RUN_ID`: continues a failed, interrupted or killed run from its journal.
import { UsageError } from '../../errors.js';
import { cassettes, runSession } from '../run-session.js';
import type { RegisterCommand } from './index.js';

interface ResumeFlags {
  maxCost?: string;
  json?: boolean;
  db?: string;
  force?: boolean;
  stream?: boolean;
  replay?: string;
}

export const registerResume: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('resume')
    .description('continue a failed, interrupted or killed run; finished steps are not run again')
    .argument('<run-id>', 'the run to continue (see `elexirion runs`)')
    .option('--force', 'the pipeline file changed: re-run from the first changed step')
    .option('--json', 'print the run as one JSON object on stdout, and nothing else')
    .option('--stream', 'print model tokens as they arrive')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--replay <file>', 'answer every provider call from a cassette, offline')
    .option('--max-cost <usd>', 'a new cost limit for the run (e.g. a larger one after a budget stop)')
    .addHelpText(
      'after',
      `
The run reuses its inputs and options (--mock, --max-cost). If its pipeline file changed since it
started, resume refuses; --force keeps the steps before the first change and re-runs the rest.

Exit codes: as for \`run\`.`,
    )
    .action(async (runId: string, flags: ResumeFlags) => {
      const maxCostUsd = flags.maxCost === undefined ? undefined : Number(flags.maxCost);
      if (maxCostUsd !== undefined && !(maxCostUsd >= 0)) {
        throw new UsageError(`--max-cost ${flags.maxCost} is not an amount of USD`, 'e.g. --max-cost 5');
      }
      const code = await runSession(ctx, { ...flags, existingJournal: true }, (engine) =>
        engine.resume(runId, {
          ...(flags.force ? { force: true } : {}),
          ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
          ...(flags.stream ? { stream: true } : {}),
          ...cassettes(flags, ctx),
        }),
      );
      setExitCode(code);
    });
};
