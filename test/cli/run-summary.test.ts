// The end of a run on the terminal (print-run.ts): its totals, its steps, and the hint of a failed
// run, in the words the docs (docs/cli.md) show.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { printRunSummary, printSteps } from '../../src/cli/print-run.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { runMain } from './run-main.js';

function printed(print: (ctx: ReturnType<typeof createCliContext>) => void): string {
  let text = '';
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  print(createCliContext({ stdout, stderr: stdout, env: { NO_COLOR: '1' } }));
  return text;
}

function result(overrides: Partial<RunResult> = {}, totals: Partial<RunResult['totals']> = {}): RunResult {
  return {
    run_id: 'R1',
    pipeline: 'p',
    status: 'succeeded',
    outputs: {},
    started_at: '2026-01-01T00:00:00.000Z',
    steps: [],
    totals: {
      input_tokens: 10,
      output_tokens: 5,
      cost_usd: 0,
      unpriced_calls: 0,
      calls: 1,
      cache_hits: 0,
      cost_saved_usd: 0,
      retries: 0,
      ...totals,
    },
    ...overrides,
  };
}

const step = (cost: number | null, details: Record<string, unknown>): RunResult['steps'][number] => ({
  name: 'ask',
  key: 'ask',
  type: 'claude',
  status: 'succeeded',
  output: 'x',
  usage: { input_tokens: 10, output_tokens: 5 },
  cost_usd: cost,
  duration_ms: 5,
  attempts: 1,
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:00.005Z',
  details,
});

describe('the totals line', () => {
  it('is `$?` when no call was priced, and counts those calls (was: `$0 (+ 1 call(s) of unknown price)`)', () => {
    const text = printed((ctx) => printRunSummary(result({}, { unpriced_calls: 1 }), ctx));
    expect(text).toContain('totals: 1 call(s), 10→5 tok, $? (1 call(s) of unknown price)\n');
  });

  it('keeps the known part when there is one, and says what it leaves out', () => {
    const text = printed((ctx) => printRunSummary(result({}, { calls: 2, cost_usd: 0.02, unpriced_calls: 1 }), ctx));
    expect(text).toContain('totals: 2 call(s), 10→5 tok, $0.02 (+ 1 call(s) of unknown price)\n');
  });

  it('says `1 retry`, `2 retries` (was: `1 retries`)', () => {
    expect(printed((ctx) => printRunSummary(result({}, { retries: 1 }), ctx))).toMatch(/, \$0, 1 retry\n/);
    expect(printed((ctx) => printRunSummary(result({}, { retries: 2 }), ctx))).toMatch(/, \$0, 2 retries\n/);
  });
});

describe('the steps of `runs show`', () => {
  it("a step's cost is `$?` when nothing of it is known, `$0.02+?` when part is; `1 retry`", () => {
    const text = printed((ctx) =>
      printSteps(
        result({
          steps: [step(0, { unpriced_calls: 1, retries: 1 }), { ...step(0.02, { unpriced_calls: 1 }), key: 'b' }],
        }),
        ctx,
      ),
    );
    const [, first, second] = text.split('\n');
    expect(first).toMatch(/ \$\? {2}1 retry$/);
    expect(second).toMatch(/ \$0\.02\+\?$/);
  });
});

describe('the hint of a run its budget stopped', () => {
  it('names `resume ID --max-cost`, and the money reads as the docs show it (`$0`, not `$0.0000`)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-budget-hint-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      'name: paid\nsteps:\n  - { name: ask, type: claude, model: claude-haiku-4-5, prompt: hello }\n',
    );
    // The refusal comes before the call: nothing listens at that address, and nothing is called.
    const env = { NO_COLOR: '1', ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
    const out = await runMain(['run', file, '--max-cost', '0.001', '--db', join(dir, 'j.db')], { env });
    expect(out.code, out.stderr).toBe(1);
    const runId = /\(run (\w+)\)/.exec(out.stdout)?.[1] as string;
    expect(out.stdout).toMatch(
      /budget: step "ask" stopped before calling anthropic\/claude-haiku-4-5: spent \$0 of max_cost_usd \$0\.0010, /,
    );
    expect(out.stdout).toContain(`hint: \`elexirion resume ${runId} --max-cost USD\` continues from the journal`);
    expect(out.stdout).not.toMatch(/\$0\.0000|fix the cause/);
  });

  it('a failure of another kind keeps the hint to fix the cause', () => {
    const text = printed((ctx) =>
      printRunSummary(result({ status: 'failed', failed_step: 'ask', error: 'step "ask" failed: boom' }), ctx),
    );
    expect(text).toContain('hint: fix the cause, then `elexirion resume R1` continues from the journal\n');
  });
});

describe('the summary of a stopped run', () => {
  it('says why it stopped when that is more than that it stopped', () => {
    const why = 'the cluster gave up on its job: job stalled more than allowable limit';
    const text = printed((ctx) => printRunSummary(result({ status: 'interrupted', error: why }), ctx));
    expect(text).toContain(`interrupted: ${why}`);
    expect(text).toContain('elexirion resume R1');
    const plain = printed((ctx) =>
      printRunSummary(result({ status: 'interrupted', error: 'the run was interrupted' }), ctx),
    );
    expect(plain).not.toContain('interrupted: the run was interrupted');
  });
});
