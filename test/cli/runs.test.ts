// `elexirion runs` and `runs show`: the flags work wherever they are written, and a reader that
// stops reading early ends the listing quietly.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { journalKilledBatch } from '../journal/killed-batch.js';
import { runMain } from './run-main.js';

const example = join(import.meta.dirname, '../../examples/hello.yaml');

describe('elexirion runs show', () => {
  it('prints JSON with --json before or after the run id', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    const run = await runMain(['run', example, '--mock', '--json', '--db', db], { env });
    expect(run.code, run.stderr).toBe(0);
    const id = JSON.parse(run.stdout).run_id as string;
    for (const args of [
      ['runs', 'show', id, '--json', '--db', db],
      ['runs', 'show', '--json', id, '--db', db],
      ['runs', '--json', 'show', id, '--db', db],
      // Crockford's base32 reads either case: a lowercased copy of the id finds the run.
      ['runs', 'show', id.toLowerCase(), '--json', '--db', db],
    ]) {
      const shown = await runMain(args, { env });
      expect(shown.code, shown.stderr).toBe(0);
      const parsed = JSON.parse(shown.stdout);
      expect(parsed.run_id, args.join(' ')).toBe(id);
      expect(parsed.status).toBe('succeeded');
    }
    const table = await runMain(['runs', 'show', id, '--db', db], { env });
    expect(table.stdout).toMatch(/succeeded/);
    expect(() => JSON.parse(table.stdout)).toThrow();
  });

  it('a reader that closes the pipe (`| head -1`) ends the listing quietly, no stack trace', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    for (let i = 0; i < 3; i++) expect((await runMain(['run', example, '--mock', '--db', db], { env })).code).toBe(0);
    const bin = join(import.meta.dirname, '../../bin/elexirion.js');
    const child = spawn(process.execPath, [bin, 'runs', '--db', db], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    // As `head` does once it has its lines, but before the first one: every write meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it("a killed run's half-done batch counts in `runs` and `runs show`: its items are in the journal", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    // A run killed with 4 items of its batch journaled: no row for the batch, no totals on the run.
    const store = new SqliteStore(db);
    const runId = '01KILLEDRUN00000000000000A';
    await journalKilledBatch(store, runId, 4);
    await store.close();

    const shown = await runMain(['runs', 'show', runId, '--json', '--db', db], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).totals).toMatchObject({
      calls: 4,
      input_tokens: 40,
      output_tokens: 20,
      cost_usd: 1,
    });
    const table = await runMain(['runs', 'show', runId, '--db', db], { env });
    expect(table.stdout).toMatch(/4 call\(s\), 40→20 tok, \$1/);
    // The batch has no step row yet: what a resume will skip is said all the same.
    expect(table.stdout).toContain('each  unfinished: 4 items journaled — a resume runs only the others');
    const list = await runMain(['runs', '--json', '--db', db], { env });
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ id: runId, cost_usd: 1 });
  });

  it("`runs --json` rounds a run's cost as `runs show --json` does: one cost per run", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    // Three items of $0.10: their float sum is 0.30000000000000004.
    const store = new SqliteStore(db);
    const runId = '01FLOATRUN000000000000000A';
    await journalKilledBatch(store, runId, 3, { inputTokens: 10, outputTokens: 5, costUsd: 0.1 });
    await store.close();

    const shown = await runMain(['runs', 'show', runId, '--json', '--db', db], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).totals.cost_usd).toBe(0.3);
    const list = await runMain(['runs', '--json', '--db', db], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ id: runId, cost_usd: 0.3 });
    expect(list.stdout).not.toMatch(/0\.3000000/);
  });

  it('`runs` and `runs show` print a paid run under $0.0001 as `<$0.0001`, never `$0.0000`', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    // Two gpt-5-nano calls of 200 tokens in and 50 out: $0.00003 each.
    const store = new SqliteStore(db);
    const runId = '01TINYRUN0000000000000000A';
    await journalKilledBatch(store, runId, 2, { inputTokens: 200, outputTokens: 50, costUsd: 0.00003 });
    await store.close();

    const list = await runMain(['runs', '--db', db], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${runId}.*  <\\$0\\.0001\n`));
    const shown = await runMain(['runs', 'show', runId, '--db', db], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/2 call\(s\), 400→100 tok, <\$0\.0001/);
    for (const out of [list.stdout, shown.stdout]) expect(out).not.toMatch(/\$0\.0000/);
  });
});

describe('elexirion runs --status', () => {
  it('with no run of that status says so, not "no runs yet" (the journal has runs)', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    expect((await runMain(['run', example, '--mock', '--db', db], { env })).code).toBe(0);
    const failed = await runMain(['runs', '--status', 'failed', '--db', db], { env });
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stdout).toBe('no failed runs: `elexirion runs` lists the runs of every status\n');
    // An empty journal is still "no runs yet", with or without --status.
    const empty = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    await new SqliteStore(empty).close();
    for (const args of [['runs'], ['runs', '--status', 'failed']]) {
      const none = await runMain([...args, '--db', empty], { env });
      expect(none.stdout).toMatch(/^no runs yet: start one/);
    }
  });
});

describe('a run whose calls all have an unknown price', () => {
  it('costs `$?` in `runs` and `runs show`, never `$0` / `$0+?`; the totals still count the calls', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    // Two items of a model missing from the price table: no known cost.
    const store = new SqliteStore(db);
    const runId = '01UNPRICEDRUN0000000000000';
    await journalKilledBatch(store, runId, 2, { inputTokens: 10, outputTokens: 5, costUsd: null as unknown as number });
    await store.close();

    const list = await runMain(['runs', '--db', db], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${runId}.*  \\$\\?\n`));
    const shown = await runMain(['runs', 'show', runId, '--db', db], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('totals: 2 call(s), 20→10 tok, $? (2 call(s) of unknown price)\n');
    for (const out of [list.stdout, shown.stdout]) expect(out).not.toMatch(/\$0(\+\?| )/);
  });
});
