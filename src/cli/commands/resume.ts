// `elexirion resume RUN_ID`: continues a failed, interrupted or killed run from its journal.
import { cassettes, runSession } from '../run-session.js';
import type { RegisterCommand } from './index.js';

interface ResumeFlags {
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
    .addHelpText(
      'after',
      `
The run reuses its inputs and options (--mock, --max-cost). If its pipeline file changed since it
started, resume refuses; --force keeps the steps before the first change and re-runs the rest.

Exit codes: as for \`run\`.`,
    )
    .action(async (runId: string, flags: ResumeFlags) => {
      const code = await runSession(ctx, flags, (engine) =>
        engine.resume(runId, {
          ...(flags.force ? { force: true } : {}),
          ...(flags.stream ? { stream: true } : {}),
          ...cassettes(flags, ctx),
        }),
      );
      setExitCode(code);
    });
};
