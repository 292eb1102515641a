// `elexirion serve`: the HTTP API, live event streams, /metrics, /health and the dashboard in one
// process. SIGTERM (or Ctrl-C) stops accepting, interrupts the active runs to a resumable state,
// waits for them (bounded by --grace) and exits. Its flags and help here; what it does in
// actions/serve.ts, imported when it runs (see index.ts).
import { DEFAULT_HOST } from '../../server/defaults.js';
import type { RegisterCommand } from './index.js';

export interface ServeFlags {
  port: string;
  host: string;
  db?: string;
  root: string;
  grace: string;
  cluster?: boolean;
  redis?: string;
  allowBaseUrl: string[];
  allowKeyEnv: string[];
  trustInlineProviders?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const registerServe: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('serve')
    .description('serve the HTTP API, live run events, /metrics, /health and the dashboard')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8787')
    .option('--host <host>', 'address to listen on; other than loopback needs ELEXIRION_TOKEN', DEFAULT_HOST)
    .option('--db <path>', 'journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .option('--root <dir>', 'directory pipelines may be read from by path', '.')
    .option('--grace <seconds>', 'how long SIGTERM waits for active runs to stop', '10')
    .option('--cluster', 'submitted runs go to the cluster workers (see `elexirion worker`), not this process')
    .option('--redis <url>', 'with --cluster: the Redis of the cluster (default: $ELEXIRION_REDIS)')
    .option(
      '--allow-base-url <url[=VAR]>',
      'a base_url pipelines sent inline may give a provider; with =VAR, the key in VAR may be sent there (repeatable)',
      collect,
      [],
    )
    .option(
      '--allow-key-env <name>',
      'a variable pipelines sent inline may name as api_key_env, beyond the vendors’ own (repeatable)',
      collect,
      [],
    )
    .option(
      '--trust-inline-providers',
      'pipelines sent inline may configure providers freely (endpoints, keys, limits)',
    )
    .addHelpText(
      'after',
      '\nAuth: every endpoint but /health and the dashboard page needs `Authorization: Bearer $ELEXIRION_TOKEN`.\nLogs: JSON lines on stderr (ELEXIRION_LOG_LEVEL, default info); the URL is printed on stdout.\n\nExit codes: 0 stopped by SIGTERM or Ctrl-C, 2 usage mistake, 69 the journal, Redis or the port is unavailable (e.g. the port is in use).\n\nExamples:\n  $ ELEXIRION_TOKEN=$(openssl rand -hex 16) elexirion serve --root examples\n  $ elexirion serve --port 0 --db /tmp/journal.db\n  $ elexirion serve --cluster --redis redis://127.0.0.1:6379 --db postgres://elexirion@db/elexirion',
    )
    .action(async (options: ServeFlags) => {
      const { serveCommand } = await import('../actions/serve.js');
      await serveCommand(options, ctx);
      setExitCode(0);
    });
};
