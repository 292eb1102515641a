// What `elexirion resume RUN_ID` does (commands/resume.ts defines its flags): loaded when it runs.
import { rehintMissingInputs } from '../../config/inputs.js';
import type { ResumeFlags } from '../commands/resume.js';
import type { CliContext } from '../context.js';
import { maxCostOption } from '../option-values.js';
import { cassettes, runSession } from '../run-session.js';

/** What to do about a required input a resumed run does not have. */
function resumeInputHint(name: string, diagnostic: { file: string }): string {
  return `a resumed run keeps the inputs it started with (resume takes no --input): give "${name}" a \`default:\` in the pipeline and resume --force again, or start a new run: elexirion run ${diagnostic.file} --input ${name}=VALUE`;
}

/** Continues the run from its journal, follows it to its end; returns the exit code. */
export async function resumeCommand(runId: string, flags: ResumeFlags, ctx: CliContext): Promise<number> {
  const maxCostUsd = maxCostOption(flags.maxCost);
  return runSession(ctx, { ...flags, existingJournal: true }, (engine) =>
    engine
      .resume(runId, {
        ...(flags.force ? { force: true } : {}),
        ...(flags.takeover ? { takeover: true } : {}),
        ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
        ...(flags.stream ? { stream: true } : {}),
        ...cassettes(flags, ctx),
      })
      .catch((error: unknown) => {
        // `--force` on a pipeline that now requires an input the run never had: resume takes no
        // --input (a run keeps the inputs it started with), so say what does work.
        throw rehintMissingInputs(error, resumeInputHint);
      }),
  );
}
