// Colors are decided stream by stream: what goes to stdout by stdout's terminal, what goes to stderr
// (progress, errors, diagnostics) by stderr's — `elexirion run x.yaml 2> run.log` on a terminal
// writes plain text to the log. NO_COLOR and FORCE_COLOR apply to both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { main, reportError } from '../../src/cli/main.js';
import { attachProgress } from '../../src/cli/progress.js';
import { ElexirionError } from '../../src/errors.js';
import { EventBus } from '../../src/telemetry/event-bus.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'elexirion-colors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape codes are what is tested
const ANSI = /\u001b\[/;

/** A stream that collects what is written to it: a terminal or, without `tty`, a file or a pipe. */
function stream(tty: boolean) {
  const chunks: string[] = [];
  const writable = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    writable: tty ? Object.assign(writable, { isTTY: true, columns: 200 }) : writable,
    text: () => chunks.join(''),
  };
}

/** The CLI with stdout and stderr each a terminal or not. */
function context(out: { tty: boolean }, err: { tty: boolean }, env: NodeJS.ProcessEnv = {}) {
  const stdout = stream(out.tty);
  const stderr = stream(err.tty);
  const ctx = createCliContext({ stdout: stdout.writable, stderr: stderr.writable, env, cwd: root });
  return { ctx, stdout: stdout.text, stderr: stderr.text };
}

describe('the colors of each stream', () => {
  it("follow that stream's own terminal", () => {
    const redirected = context({ tty: true }, { tty: false }).ctx;
    expect(redirected.colors.isColorSupported).toBe(true);
    expect(redirected.stderrColors.isColorSupported).toBe(false);
    const piped = context({ tty: false }, { tty: true }).ctx;
    expect(piped.colors.isColorSupported).toBe(false);
    expect(piped.stderrColors.isColorSupported).toBe(true);
  });

  it('FORCE_COLOR turns both on or off, NO_COLOR turns both off', () => {
    const forced = context({ tty: false }, { tty: false }, { FORCE_COLOR: '1' }).ctx;
    expect([forced.colors.isColorSupported, forced.stderrColors.isColorSupported]).toEqual([true, true]);
    const off = context({ tty: true }, { tty: true }, { FORCE_COLOR: '0' }).ctx;
    expect([off.colors.isColorSupported, off.stderrColors.isColorSupported]).toEqual([false, false]);
    const none = context({ tty: true }, { tty: true }, { NO_COLOR: '', FORCE_COLOR: '1' }).ctx;
    expect([none.colors.isColorSupported, none.stderrColors.isColorSupported]).toEqual([false, false]);
  });
});

describe('with stdout on a terminal and stderr redirected to a file', () => {
  const redirected = () => context({ tty: true }, { tty: false });

  it("`run` writes plain progress to stderr, and colors stdout's summary", async () => {
    const { ctx, stdout, stderr } = redirected();
    const code = await main(
      ['node', 'elexirion', 'run', 'examples/hello.yaml', '--mock', '--db', join(dir, 'j.db')],
      ctx,
    );
    expect(code).toBe(0);
    expect(stderr()).toContain('✓ setup');
    expect(stderr()).not.toMatch(ANSI);
    expect(stdout()).toMatch(ANSI);
  });

  it("`validate` writes plain diagnostics to stderr, and colors stdout's ✓ lines", async () => {
    const { ctx, stdout, stderr } = redirected();
    const code = await main(
      ['node', 'elexirion', 'validate', 'examples/hello.yaml', 'test/corpus/misspelt-step-key.yaml'],
      ctx,
    );
    expect(code).toBe(2);
    expect(stderr()).toContain('test/corpus/misspelt-step-key.yaml:5:5: unknown key "promt" at steps[0].promt');
    expect(stderr()).not.toMatch(ANSI);
    expect(stdout()).toMatch(ANSI);
  });

  it('an error is plain text', () => {
    const { ctx, stderr } = redirected();
    reportError(new ElexirionError('the journal is locked', { hint: 'wait' }), ctx, false);
    reportError(new Error('boom'), ctx, false);
    expect(stderr()).toContain('error: the journal is locked\nhint: wait\n');
    expect(stderr()).toContain('internal error: boom\n');
    expect(stderr()).not.toMatch(ANSI);
  });

  it('progress is plain text', () => {
    const { ctx, stderr } = redirected();
    const bus = new EventBus();
    const detach = attachProgress(bus, ctx, { stream: false });
    try {
      bus.emit('pipeline.step.start', { runId: 'r1', step: 'draft', type: 'mock', index: 0 });
      bus.emit('pipeline.step.stop', {
        runId: 'r1',
        step: 'draft',
        type: 'mock',
        status: 'failed',
        durationMs: 5,
        usage: { inputTokens: 1, outputTokens: 1 },
        costUsd: 0,
        attempts: 1,
        fromJournal: false,
        error: 'it broke',
      });
    } finally {
      detach();
    }
    expect(stderr()).toContain('✗ draft');
    expect(stderr()).not.toMatch(ANSI);
  });
});

describe('with stderr on a terminal and stdout redirected', () => {
  it('stderr is colored, stdout plain', async () => {
    const { ctx, stdout, stderr } = context({ tty: false }, { tty: true });
    const code = await main(
      ['node', 'elexirion', 'validate', 'examples/hello.yaml', 'test/corpus/misspelt-step-key.yaml'],
      ctx,
    );
    expect(code).toBe(2);
    expect(stderr()).toMatch(ANSI);
    expect(stdout()).toBe('✓ examples/hello.yaml: pipeline "hello", 3 steps, 2 inputs\n');
  });
});
