// `elexirion resume RUN_ID`: continues a failed, interrupted or killed run from its journal. Its
// flags and help here; what it does in actions/resume.ts, imported when it runs (see index.ts).
import { normalizeRunId } from '../../engine/run-id.js';
import type { RegisterCommand } from './index.js';

export interface ResumeFlags {
  maxCost?: string;
  json?: boolean;
  db?: string;
  force?: boolean;
  takeover?: boolean;
  stream?: boolean;
  replay?: string;
}

export const registerResume: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('resume')
    .description('continue a failed, interrupted or killed run; finished steps are not run again')
    .argument('<run-id>', 'the run to continue (see `elexirion runs`)', normalizeRunId)
    .option('--force', 'the pipeline file changed: re-run from the first changed step')
    .option(
      '--takeover',
      'the run belongs to a process in another container (pid namespace) that is gone: take it over',
    )
    .option('--json', 'print the run as one JSON object on stdout, and nothing else')
    .option('--stream', 'print model tokens as they arrive')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option(
      '--replay <file>',
      'answer every provider call from this cassette, offline (a replayed run: instead of its own)',
    )
    .option('--max-cost <usd>', 'a new cost limit for the run (e.g. a larger one after a budget stop)')
    .addHelpText(
      'after',
      `
The run reuses its inputs and options (--mock, --max-cost, and the cassettes of --replay and
--record: a replayed run goes on answering from its cassette, offline, and a resume whose cassette
is gone is refused; --replay FILE gives it another). If its pipeline file changed since it started,
resume refuses; --force keeps the steps before the first change and re-runs the rest.
A run still owned by a live process is refused; one owned by a process in another pid namespace
on this host (another container sharing the journal) cannot be checked and is refused too — once
that process is known to be gone, --takeover resumes it.
resume takes no --input: an input the changed pipeline requires but the run never had is an error
(exit 2); give it a default in the pipeline, or start a new run.

Exit codes: as for \`run\`: 0 succeeded, 1 the run failed, 2 invalid (or not resumable), 69 the
journal cannot be opened, 130 interrupted.`,
    )
    .action(async (runId: string, flags: ResumeFlags) => {
      const { resumeCommand } = await import('../actions/resume.js');
      setExitCode(await resumeCommand(runId, flags, ctx));
    });
};
