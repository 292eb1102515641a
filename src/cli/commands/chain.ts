// `elexirion chain A.yaml B.yaml ...`: runs pipelines in a row, each one's outputs becoming the
// next one's inputs; halts on the first link that fails and names it. `--resume CHAIN_ID` resumes
// the link that stopped and runs the rest. Its flags and help here; what it does in actions/chain.ts,
// imported when it runs (see index.ts).
import { collectInput } from '../option-values.js';
import type { RegisterCommand } from './index.js';

export interface ChainFlags {
  input?: string[];
  inputs?: string;
  mock?: boolean;
  json?: boolean;
  db?: string;
  resume?: string;
  force?: boolean;
}

export const registerChain: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('chain')
    .description("run pipelines one after another, each one's outputs becoming the next one's inputs")
    .argument('[files...]', 'pipeline YAML files, in order')
    .option('-i, --input <key=value>', 'an input for every link that declares it (repeatable)', collectInput)
    .option('--inputs <file.json>', 'inputs from a JSON file (--input wins on a clash)')
    .option('--mock', 'swap every provider for the offline mock provider')
    .option('--json', 'print the chain as one JSON object on stdout, and nothing else')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--resume <chain-id>', 'resume a chain that stopped: its stopped link, then the links after it')
    .option('--force', 'with --resume: run the stopped link again from its first changed step (its file was fixed)')
    .addHelpText(
      'after',
      `
A link receives the outputs of the link before it that it declares as inputs (the others are not
passed on), plus the --input values it declares. The chain id is the run id of its first link.

Exit codes: 0 every link succeeded, 1 a link failed (which one, at which step, why), 2 invalid
pipelines or inputs, 69 the journal cannot be opened, 130 interrupted (resumable with
\`elexirion chain --resume CHAIN_ID\`).

Examples:
  $ elexirion chain extract.yaml summarize.yaml --mock -i url=https://example.com
  $ elexirion chain --resume 01JB8Z6Q3M2V4T5X7Y9A0BCDEF
  $ elexirion chain --resume 01JB8Z6Q3M2V4T5X7Y9A0BCDEF --force   # after fixing the stopped link's file`,
    )
    .action(async (files: string[], flags: ChainFlags) => {
      const { chainCommand } = await import('../actions/chain.js');
      setExitCode(await chainCommand(files, flags, ctx));
    });
};
