// `elexirion help NAME` of a command that does not exist printed the whole help and exited 2 without
// a word of why; it now says which command is unknown, as any other usage mistake does.
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

describe('help of an unknown command', () => {
  it('names the unknown command, exit 2', async () => {
    const result = await runMain(['help', 'rnu']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: unknown command "rnu"');
  });

  it('says so in the JSON error too', async () => {
    const result = await runMain(['help', 'rnu', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: 'unknown command "rnu"', exit_code: 2 });
  });

  it('leaves help of a known command as it was: exit 0, no error', async () => {
    const result = await runMain(['help', 'run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: elexirion run');
    expect(result.stderr).toBe('');
  });
});
