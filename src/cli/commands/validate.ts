// `elexirion validate FILE...`: loads each pipeline exactly as `run` would (schema, semantics,
// templates) and reports every problem, without calling a model. Exit 0 when all are valid, 2 if not.
// Its flags and help here; what it does in actions/validate.ts, imported when it runs (see index.ts).
import type { Command } from 'commander';
import type { RegisterCommand } from './index.js';

export const registerValidate: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('validate')
    .description('check pipeline files (YAML, schema, names, providers, templates) without running them')
    .argument('<files...>', 'pipeline YAML files')
    .option('--json', 'print the results as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit codes: 0 all files are valid, 2 at least one is not.\n\nExamples:\n  $ elexirion validate examples/*.yaml\n  $ elexirion validate --json pipeline.yaml',
    )
    .action(async (files: string[], options: { json?: boolean }, command: Command) => {
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      const { validateCommand } = await import('../actions/validate.js');
      setExitCode(await validateCommand(files, options, debug, ctx));
    });
};
