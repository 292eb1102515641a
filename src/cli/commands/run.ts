// `elexirion run FILE`: runs a pipeline to its end, journaled, resumable. Its flags and help here;
// what it does in actions/run.ts, imported when it runs (see index.ts).
import { Option } from 'commander';
import { collectInput } from '../option-values.js';
import type { RegisterCommand } from './index.js';

export interface RunFlags {
  input?: string[];
  inputs?: string;
  mock?: boolean;
  json?: boolean;
  db?: string;
  stream?: boolean;
  maxCost?: string;
  record?: string;
  replay?: string;
  cluster?: boolean;
  redis?: string;
  fallbackLocal?: boolean;
}

export const registerRun: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('run')
    .description('run a pipeline; every finished step is journaled, so a stopped run can be resumed')
    .argument('<file>', 'pipeline YAML file')
    .option('-i, --input <key=value>', 'an input (repeatable); arrays and objects as JSON', collectInput)
    .option('--inputs <file.json>', 'inputs from a JSON file (--input wins on a clash)')
    .option('--mock', 'swap every provider for the offline mock provider')
    .option('--json', 'print the run as one JSON object on stdout, and nothing else')
    .option('--stream', 'print model tokens as they arrive')
    .option('--db <path>', 'the journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--max-cost <usd>', 'stop before a call that would take the run past this cost')
    .addOption(
      new Option('--record <file>', 'write every provider call of the run to a cassette file').conflicts('replay'),
    )
    .option('--replay <file>', 'answer every provider call from a cassette, offline; a call it lacks fails')
    .option('--cluster', 'enqueue the run for the cluster workers (see `elexirion worker`) and follow it')
    .option('--redis <url>', 'the Redis of the cluster (default: $ELEXIRION_REDIS)')
    .option('--fallback-local', 'with --cluster: if Redis cannot be reached, run on this machine (and say so)')
    .addHelpText(
      'after',
      `
Exit codes: 0 succeeded, 1 the run failed (which step, why), 2 invalid pipeline or inputs,
69 the journal (or, with --cluster, Redis) cannot be reached, 130 interrupted (Ctrl-C; resumable
with \`elexirion resume RUN_ID\`).

Examples:
  $ elexirion run examples/hello.yaml --mock
  $ elexirion run review.yaml -i focus=security -i files='["a.ts","b.ts"]' --max-cost 0.50
  $ elexirion run review.yaml --record review.cassette   # later, offline: --replay review.cassette`,
    )
    .action(async (file: string, flags: RunFlags) => {
      const { runCommand } = await import('../actions/run.js');
      setExitCode(await runCommand(file, flags, ctx));
    });
};
