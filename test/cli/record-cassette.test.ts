// `run --record FILE`: the cassette is the run's only once the run is accepted — a refused run (exit
// 2, "nothing was run") leaves a cassette recorded earlier as it was — and a path it cannot be
// written to is a usage error, not an internal one.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const hello = join(import.meta.dirname, '../../examples/hello.yaml');

describe('run --record', () => {
  it('keeps an existing cassette when the run is refused: bad input, a missing key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-record-'));
    const recorded = await runMain(['run', hello, '--mock', '--db', 'j.db', '--record', 'c.jsonl'], { cwd: dir });
    expect(recorded.code).toBe(0);
    const cassette = readFileSync(join(dir, 'c.jsonl'), 'utf8');
    expect(cassette.trim().split('\n').length).toBeGreaterThan(0);

    const badInput = await runMain(
      ['run', hello, '--mock', '--db', 'j.db', '--record', 'c.jsonl', '--input', 'nam=typo'],
      { cwd: dir },
    );
    expect(badInput.code).toBe(2);
    expect(readFileSync(join(dir, 'c.jsonl'), 'utf8')).toBe(cassette);

    writeFileSync(
      join(dir, 'claude.yaml'),
      'name: c\nsteps:\n  - { name: a, type: claude, model: claude-sonnet-4-5, prompt: hi }\n',
    );
    const noKey = await runMain(['run', 'claude.yaml', '--db', 'j.db', '--record', 'c.jsonl'], {
      cwd: dir,
      env: { NO_COLOR: '1' },
    });
    expect(noKey.code).toBe(2);
    expect(readFileSync(join(dir, 'c.jsonl'), 'utf8')).toBe(cassette);

    // Accepted, the run records afresh.
    const again = await runMain(['run', hello, '--mock', '--db', 'j.db', '--record', 'c.jsonl', '--input', 'name=Bo'], {
      cwd: dir,
    });
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'c.jsonl'), 'utf8')).not.toBe(cassette);
  });

  it('into a directory that does not exist: exit 2, what and what to do, nothing run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-record-'));
    const target = join(dir, 'missing', 'c.jsonl');
    const result = await runMain(['run', hello, '--mock', '--db', 'j.db', '--record', target], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `cannot record to the cassette ${target}: the directory ${join(dir, 'missing')} does not exist`,
    );
    expect(result.stderr).toContain('hint: give --record a file in an existing directory');
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
