// `elexirion schema`: the JSON Schema of the pipeline format, for editors and other tools.
// zod (the schema's source) loads when the command runs, not with the CLI.
import { ExitCode } from '../../errors.js';
import type { RegisterCommand } from './index.js';

export const registerSchema: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of the pipeline format')
    .addHelpText(
      'after',
      '\nThe same schema ships as node_modules/elexirion/schema/pipeline.schema.json; point an editor at it with\n  # yaml-language-server: $schema=./node_modules/elexirion/schema/pipeline.schema.json',
    )
    .action(async () => {
      const { pipelineJsonSchemaText } = await import('../../config/json-schema.js');
      ctx.stdout.write(pipelineJsonSchemaText());
      setExitCode(ExitCode.ok);
    });
};
