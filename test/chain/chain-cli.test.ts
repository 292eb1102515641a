import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { runMain } from '../cli/run-main.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'elexirion-chain-cli-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, doc: unknown) => {
  writeFileSync(join(dir, name), JSON.stringify(doc));
  return name;
};
const first = {
  name: 'first',
  inputs: { n: { type: 'integer', default: 1 } },
  steps: [{ name: 'one', type: 'mock', prompt: 'one {{ n }}', response: 'one-{{ n }}' }],
  outputs: { text: '{{ steps.one.output }}' },
};
const second = (failing: boolean) => ({
  name: 'second',
  inputs: { text: { type: 'string', required: true } },
  steps: [
    {
      name: 'two',
      type: 'mock',
      prompt: 'two {{ text }}',
      response: 'two-{{ text }}',
      ...(failing ? { fail_first: 9, retry: { max_attempts: 1 } } : {}),
    },
  ],
  outputs: { text: '{{ steps.two.output }}' },
});

describe('elexirion chain', () => {
  it('runs the links and prints the chain as JSON (exit 0)', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(false));
    const out = await runMain(['chain', a, b, '--mock', '--json', '--db', 'j.db', '-i', 'n=7'], { cwd: dir });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ text: 'two-one-7' });
    expect(result.links).toHaveLength(2);
  });

  it('names the failed link (exit 1), and --resume continues the same chain', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(true));
    const out = await runMain(['chain', a, b, '--mock', '--db', 'j.db'], { cwd: dir, env: { NO_COLOR: '1', CI: '1' } });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/chain stopped: link 2 of 2 \(b\.yaml\) failed at step two: /);
    const chainId = /chain --resume (\S+)`/.exec(out.stdout)?.[1] as string;
    expect(chainId).toBeTruthy();

    const again = await runMain(['chain', '--resume', chainId, '--json', '--db', 'j.db'], { cwd: dir });
    expect(again.code).toBe(1); // the mock fails the same way in a new process: still link 2
    const result = JSON.parse(again.stdout);
    expect(result.chain_id).toBe(chainId);
    expect(result.links[0].run_id).toBe(chainId);
    expect(result.failed_link).toBe(2);
  });

  it('points a stopped chain to `chain --resume`, never to a resume of the link alone', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(true));
    const env = { NO_COLOR: '1', CI: '1' };
    const out = await runMain(['chain', a, b, '--mock', '--db', 'j.db'], { cwd: dir, env });
    expect(out.code).toBe(1);
    const chainId = /chain --resume (\S+)`/.exec(out.stdout)?.[1] as string;
    // Was: the failed link's summary said `elexirion resume LINK_RUN_ID`, which resumes that link's
    // run alone: the links after it would never run.
    expect(out.stdout).not.toMatch(/elexirion resume /);
    expect(out.stdout).toContain(`hint: fix the cause, then \`elexirion chain --resume ${chainId}\``);

    // The stopped link's file fixed: the chain needs --force, and says so as a chain command
    // (was: `resume with --force`, i.e. `elexirion resume LINK_RUN_ID --force`).
    write('b.yaml', second(false));
    const changed = await runMain(['chain', '--resume', chainId, '--db', 'j.db'], { cwd: dir, env });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('link 2 of 2 (b.yaml) changed since its run');
    expect(changed.stderr).toContain(`\`elexirion chain --resume ${chainId} --force\``);
    expect(changed.stderr).not.toContain('resume with --force');
    const forced = await runMain(['chain', '--resume', chainId, '--force', '--json', '--db', 'j.db'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ chain_id: chainId, status: 'succeeded' });
  });

  it('exits 2 on an invalid pipeline, and on files given with --resume', async () => {
    const bad = write('bad.yaml', { name: 'bad', steps: [] });
    const out = await runMain(['chain', bad, '--mock', '--db', 'j.db'], { cwd: dir });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('bad.yaml');
    const both = await runMain(['chain', bad, '--resume', 'X', '--db', 'j.db'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--resume takes no files');
  });

  it('a given input of the wrong type for a later link exits 2 before any link runs, naming where', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', {
      name: 'typed',
      inputs: { text: { type: 'string', required: true }, count: { type: 'integer', default: 1 } },
      steps: [{ name: 'two', type: 'mock', prompt: 'two {{ text }} {{ count }}' }],
    });
    const out = await runMain(['chain', a, b, '--mock', '--db', 'j.db', '-i', 'count=abc'], { cwd: dir });
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/b\.yaml:\d+:\d+: input "count" must be integer/);
    const runs = await runMain(['runs', '--json', '--db', 'j.db'], { cwd: dir });
    expect(JSON.parse(runs.stdout)).toEqual([]); // nothing ran, nothing was paid for
  });

  it('--resume refuses inputs and --mock rather than silently dropping them', async () => {
    for (const extra of [['-i', 'n=3'], ['--mock']]) {
      const out = await runMain(['chain', '--resume', 'X', '--db', 'j.db', ...extra], { cwd: dir });
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/--resume continues a chain with the inputs and --mock it was started with/);
    }
  });

  it('a later link whose provider key is missing stops the chain before the first link runs (exit 2, naming it)', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', {
      name: 'paid',
      inputs: { text: { type: 'string', required: true } },
      steps: [{ name: 'two', type: 'claude', prompt: 'two {{ text }}' }],
    });
    const out = await runMain(['chain', a, b, '--db', 'j.db'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/link 2 of 2 \(b\.yaml\): provider "anthropic" has no API key/);
    const runs = await runMain(['runs', '--json', '--db', 'j.db'], { cwd: dir });
    expect(JSON.parse(runs.stdout)).toEqual([]);
  });
});

/** The chain command in-process, its stderr a terminal `columns` wide (CI unset: live progress). */
async function chainOnTerminal(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        stderr += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: 100 },
  );
  const out = new Writable({ write: (_chunk, _encoding, done) => done() });
  const ctx = createCliContext({ stdout: out, stderr: err, env: { NO_COLOR: '1' }, cwd: dir });
  const code = await main(['node', 'elexirion', ...args], ctx);
  return { code, stderr };
}

describe('elexirion chain: the link lines', () => {
  it("announce each link before its run's first line, with the file's name as given (was: after its first step)", async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(false));
    const out = await runMain(['chain', a, b, '--mock', '--db', 'j.db'], { cwd: dir, env: { NO_COLOR: '1', CI: '1' } });
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stderr.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    expect(lines[at(/link 1 of 2/)]).toBe('link 1 of 2 (a.yaml)');
    expect(at(/link 1 of 2/)).toBe(at(/^running first \(run /) - 1);
    expect(at(/^▶ one/)).toBeGreaterThan(at(/^running first/));
    expect(lines[at(/link 2 of 2/)]).toBe('link 2 of 2 (b.yaml)');
    expect(at(/link 2 of 2/)).toBe(at(/^running second \(run /) - 1);
    // The run's line says how many steps, in good English.
    expect(out.stderr).toMatch(/running first \(run \w+, 1 step\)/);
  });

  it('on a terminal, a link line is a line of its own: never written onto the live line of a step', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(false));
    const out = await chainOnTerminal(['chain', a, b, '--mock', '--db', 'j.db']);
    expect(out.code, out.stderr).toBe(0);
    for (const link of ['link 1 of 2 (a.yaml)', 'link 2 of 2 (b.yaml)']) {
      const i = out.stderr.indexOf(link);
      expect(i, out.stderr).toBeGreaterThanOrEqual(0);
      const before = out.stderr.slice(0, i);
      // At the start of the output, after a newline, or after the live line was erased.
      expect(before === '' || before.endsWith('\n') || before.endsWith('\r\x1b[2K'), JSON.stringify(before)).toBe(true);
      expect(out.stderr.slice(i + link.length).startsWith('\n')).toBe(true);
    }
  });

  it("on --resume, the link line does not contradict the run's own `running` / `resuming` line", async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(true));
    const env = { NO_COLOR: '1', CI: '1' };
    const failed = await runMain(['chain', a, b, '--mock', '--db', 'j.db'], { cwd: dir, env });
    const chainId = /chain --resume (\S+)`/.exec(failed.stdout)?.[1] as string;
    const again = await runMain(['chain', '--resume', chainId, '--db', 'j.db'], { cwd: dir, env });
    expect(again.code).toBe(1);
    const lines = again.stderr.split('\n');
    const link = lines.findIndex((l) => l.includes('link 2 of 2'));
    expect(lines[link]).toBe('link 2 of 2 (b.yaml)');
    expect(lines[link + 1]).toMatch(/^(running|resuming) second \(run /);
    expect(again.stderr).not.toMatch(/starting link|resuming link/);
  });
});

describe('elexirion chain: the hint of a stopped chain', () => {
  it('an interrupted chain is told `chain --resume ID` only: there is nothing to fix (was: "fix the cause … --force")', async () => {
    const a = write('a.yaml', first);
    const b = write('b.yaml', second(false));
    // Ctrl-C while link 1's run is being created: the handler the chain installed, called directly.
    const createRun = SqliteStore.prototype.createRun;
    let pressed = false;
    vi.spyOn(SqliteStore.prototype, 'createRun').mockImplementation(async function (this: SqliteStore, ...args) {
      if (!pressed) {
        pressed = true;
        (process.listeners('SIGINT').at(-1) as (signal: NodeJS.Signals) => void)('SIGINT');
      }
      return createRun.apply(this, args);
    });
    const out = await runMain(['chain', a, b, '--mock', '--db', 'j.db'], { cwd: dir, env: { NO_COLOR: '1', CI: '1' } });
    expect(out.code).toBe(130);
    expect(out.stdout).toMatch(/chain stopped: link 1 of 2 \(a\.yaml\) was interrupted/);
    const chainId = /chain --resume (\S+)`/.exec(out.stdout)?.[1] as string;
    expect(out.stdout).toContain(`hint: \`elexirion chain --resume ${chainId}\` continues where it stopped\n`);
    expect(out.stdout).not.toMatch(/fix the cause|--force/);
  });
});
