// `elexirion health [--json] [--db PATH]`: the journal (a real query and a write beside it), the
// providers' keys, memory, runs marked running and event-loop lag. Exit 0 when healthy, 1 when
// degraded or unhealthy (a journal that does not exist, cannot be opened or cannot be written is
// unhealthy). Its flags and help here; what it does in actions/health.ts, imported when it runs.
import type { RegisterCommand } from './index.js';

export const registerHealth: RegisterCommand = (program, ctx, setExitCode) => {
  program
    .command('health')
    .description('check the journal database, provider keys, memory and event-loop lag')
    .option('--json', 'print the report as JSON on stdout')
    .option('--db <path>', 'journal database (default: $ELEXIRION_DB or .elexirion/elexirion.db)')
    .addHelpText(
      'after',
      '\nExit codes: 0 healthy, 1 degraded or unhealthy (no journal at --db is unhealthy: health never creates one).\n\nExamples:\n  $ elexirion health\n  $ elexirion health --json --db /var/lib/elexirion/journal.db',
    )
    .action(async (options: { json?: boolean; db?: string }) => {
      const { healthCommand } = await import('../actions/health.js');
      setExitCode(await healthCommand(options, ctx));
    });
};
