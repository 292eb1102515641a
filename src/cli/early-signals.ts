// Ctrl-C (or SIGTERM) from the very start of the process: the launcher (bin/elexirion.js) installs
// this before it loads the rest of the CLI, which takes a moment. Until a command installs its own
// handler (run, resume, chain, serve, worker), a signal ends the process here, as Node's default
// action would, but in the CLI's words: a line on stderr, and with `--json` the one JSON document
// stdout promises, whatever happens. Nothing was started then (a command installs its handler
// before it creates a run), so the document has no run id. This module imports nothing: it must
// be loaded at once.

/** Exit code of an interrupted command (ExitCode.interrupted). */
const INTERRUPTED = 130;

/**
 * Whether the command line asks for JSON (`--json` before any `--`). A command that stops on an
 * error then still prints one JSON object on stdout — the error — so that `… --json | jq` never
 * reads an empty or partial document; the sentence and hint still go to stderr.
 */
export function asksForJson(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** What stdout holds, with `--json`, when a signal stops the command before it started anything. */
export function interruptedDocument(signal: NodeJS.Signals): Record<string, unknown> {
  return {
    status: 'interrupted',
    error: `interrupted (${signal}) before anything was started`,
    hint: 'nothing was run: run the command again',
    exit_code: INTERRUPTED,
  };
}

interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Handles SIGINT and SIGTERM while no command handles them (it is then the only listener). Once a
 * command has installed a handler of its own, or has returned (call the returned function then),
 * the command has said what there is to say: a signal it no longer handles ends the process at
 * once, silently, as Node's default action would.
 */
export function handleSignalsWhileStarting(
  argv: string[],
  streams: Streams = process,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let done = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return; // the command's own handler has it
    if (!done) {
      streams.stderr.write(`\n${signal}: stopped before anything was started; nothing was run\n`);
      if (asksForJson(argv)) streams.stdout.write(`${JSON.stringify(interruptedDocument(signal), null, 2)}\n`);
      exit(INTERRUPTED);
      return;
    }
    exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  const onNewListener = (event: string | symbol) => {
    if (event !== 'SIGINT' && event !== 'SIGTERM') return;
    done = true;
    process.off('newListener', onNewListener);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('newListener', onNewListener);
  return () => {
    done = true;
    process.off('newListener', onNewListener);
  };
}
