// A usage mistake caught by Commander, in the CLI's own form: a sentence and a hint. Commander
// appends its did-you-mean to the message on a line of its own ("\n(Did you mean --mock?)"): left
// there it reached `--json`'s `error` with a newline in it, and stderr without the `hint:` every
// other error has. Commander suggests only for long options; a short one (`-v` for `-V`) gets its
// suggestion here, from the flags of the command that refused it.
import type { Command } from 'commander';

const USAGE_HINT = 'run with --help for usage';

export interface UsageMessage {
  error: string;
  hint: string;
}

/** An option's spellings, as Commander holds them (`-V`, `--version`). */
export interface Flags {
  short?: string | undefined;
  long?: string | undefined;
}

/** Commander's message (with or without its `error: ` prefix) as an error and a hint. */
export function usageError(message: string, flags: readonly Flags[] = []): UsageMessage {
  const lines = message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const suggestion = /^\(Did you mean (.+?)\??\)$/.exec(lines[lines.length - 1] ?? '');
  if (suggestion) lines.pop();
  const error = lines.join(' ');
  const guess = suggestion?.[1] ?? shortFlagGuess(error, flags);
  return { error, hint: guess ? `did you mean ${guess}? Or ${USAGE_HINT}` : USAGE_HINT };
}

/**
 * For an unknown one-letter flag: the flag of the other case (`-v` → `-V`, `--version`), else the
 * one long option starting with that letter (`-j` → `--json`). Two candidates (`-d`: `--db`,
 * `--debug`) are a guess too many: none.
 */
function shortFlagGuess(error: string, flags: readonly Flags[]): string | undefined {
  const letter = /^unknown option '-([^-])'$/.exec(error)?.[1];
  if (letter === undefined) return undefined;
  const otherCase = letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase();
  const swapped = flags.find((f) => f.short === `-${otherCase}`);
  if (swapped?.short) return swapped.long ? `${swapped.short} (${swapped.long})` : swapped.short;
  const longs = new Set(flags.flatMap((f) => (f.long?.startsWith(`--${letter}`) ? [f.long] : [])));
  return longs.size === 1 ? [...longs][0] : undefined;
}

/** The flags `command` accepts: its own and those of the commands above it (`--debug`, `-V`). */
export function flagsOf(command: Command): Flags[] {
  const flags: Flags[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) {
    flags.push(
      ...c
        .createHelp()
        .visibleOptions(c)
        .map((o) => ({ short: o.short, long: o.long })),
    );
  }
  return flags;
}
