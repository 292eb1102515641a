// Every command's --help says its exit codes, as docs/cli.md does: `chain --help` left out 69 (a
// journal that cannot be opened), `runs` and `runs show` said none, and `elexirion --help` listed
// none of the codes a script branches on.
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

async function help(args: string[]): Promise<string> {
  const result = await runMain([...args, '--help']);
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('exit codes in --help', () => {
  it('elexirion --help lists every exit code', async () => {
    const text = await help([]);
    for (const code of [
      '0 success',
      '1 a run failed',
      '2 invalid input',
      '69 a service',
      '70 a bug',
      '130 interrupted',
    ]) {
      expect(text).toContain(code);
    }
  });

  it.each(['run', 'resume', 'chain', 'runs', 'runs show', 'serve'])(
    '%s --help names 69, the journal unavailable',
    async (command) => {
      expect(await help(command.split(' '))).toMatch(/Exit codes:[\s\S]*\b69 /);
    },
  );

  it('health and serve show their --db default as the variable, like the other commands', async () => {
    for (const command of ['health', 'serve']) {
      expect((await help([command])).replace(/\s+/g, ' ')).toContain('(default: $ELEXIRION_DB or');
    }
  });
});
