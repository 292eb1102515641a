// A mistyped flag or command: Commander's did-you-mean used to end up inside the error sentence
// (`--json` gave `"error": "unknown option '--mokc'\n(Did you mean --mock?)"`) and stderr showed it
// in parentheses, not as the `hint:` every other error has. It is the hint now, in both.
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

describe('a usage mistake with a did-you-mean', () => {
  it('a mistyped flag: one-line error, the suggestion as the hint', async () => {
    const result = await runMain(['run', 'examples/hello.yaml', '--mokc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: unknown option '--mokc'\nhint: did you mean --mock? Or run with --help for usage\n",
    );
  });

  it('with --json: the error has no newline, the suggestion is in the hint', async () => {
    const result = await runMain(['run', 'examples/hello.yaml', '--mokc', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: "unknown option '--mokc'",
      hint: 'did you mean --mock? Or run with --help for usage',
      exit_code: 2,
    });
  });

  it('a mistyped command', async () => {
    const result = await runMain(['rnu', 'x.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("error: unknown command 'rnu'\nhint: did you mean run? Or run with --help for usage\n");
  });

  it('without a suggestion: the usual hint, as a hint', async () => {
    const result = await runMain(['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("error: missing required argument 'file'\nhint: run with --help for usage\n");
  });

  // Commander suggests for long flags only: `-v` said "unknown option '-v'" and no more.
  it('a mistyped short flag: the flag of the other case, with its long name', async () => {
    const result = await runMain(['-v']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: unknown option '-v'\nhint: did you mean -V (--version)? Or run with --help for usage\n",
    );
    const json = await runMain(['-v', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      hint: 'did you mean -V (--version)? Or run with --help for usage',
    });
    const input = await runMain(['run', 'examples/hello.yaml', '-I', 'topic=x']);
    expect(input.stderr).toContain('hint: did you mean -i (--input)? Or run with --help for usage\n');
  });

  it("a short flag for the command's one long option of that letter; none when two would fit", async () => {
    const stream = await runMain(['run', 'examples/hello.yaml', '-s']);
    expect(stream.stderr).toBe(
      "error: unknown option '-s'\nhint: did you mean --stream? Or run with --help for usage\n",
    );
    const db = await runMain(['run', 'examples/hello.yaml', '-d']); // --db or --debug
    expect(db.stderr).toBe("error: unknown option '-d'\nhint: run with --help for usage\n");
  });
});
