// A usage mistake caught by Commander, in the CLI's own form: a sentence and a hint. Commander
// appends its did-you-mean to the message on a line of its own ("\n(Did you mean --mock?)"): left
// there it reached `--json`'s `error` with a newline in it, and stderr without the `hint:` every
// other error has.

const USAGE_HINT = 'run with --help for usage';

export interface UsageError {
  error: string;
  hint: string;
}

/** Commander's message (with or without its `error: ` prefix) as an error and a hint. */
export function usageError(message: string): UsageError {
  const lines = message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const suggestion = /^\(Did you mean (.+)\)$/.exec(lines[lines.length - 1] ?? '');
  if (suggestion) lines.pop();
  const error = lines.join(' ');
  return { error, hint: suggestion ? `did you mean ${suggestion[1]} Or ${USAGE_HINT}` : USAGE_HINT };
}
