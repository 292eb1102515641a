// The progress the CLI prints on stderr while a run goes: a batch's ETA is the engine's (the pace of
// the items run since the step (re)started), and on a terminal the live line is one row, cut to the
// terminal's width.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { fitToColumns, terminalColumns, visibleWidth } from '../../src/cli/format.js';
import { attachProgress } from '../../src/cli/progress.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { runMain } from './run-main.js';

const ERASE = '\r\x1b[2K';
let detach: (() => void) | undefined;
afterEach(() => {
  detach?.();
  detach = undefined;
});

/** Progress attached to a fresh bus, writing to a stderr that is a terminal (`columns` wide) or a pipe. */
function watch(stderr: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = {}) {
  const bus = new EventBus();
  const stream = Object.assign(new PassThrough(), stderr);
  let text = '';
  stream.on('data', (chunk) => {
    text += chunk;
  });
  detach = attachProgress(bus, createCliContext({ stderr: stream, stdout: new PassThrough(), env }), { stream: false });
  return { bus, stream, text: () => text };
}

const start = (bus: EventBus, step: string) =>
  bus.emit('pipeline.step.start', { runId: 'r1', step, type: 'batch', index: 0 });

describe('the ETA of a batch', () => {
  it("is the progress event's own: a resumed batch's items done before the resume do not speed it up", () => {
    const { bus, text } = watch({});
    start(bus, 'items');
    // Resumed with 32 of 40 items in the journal: the engine's ETA counts only the items run since.
    bus.emit('pipeline.step.progress', { runId: 'r1', step: 'items', done: 33, failed: 0, total: 40, etaMs: 7_000 });

    expect(text()).toContain('items: 33/40 ETA 7.0s');
  });

  it('is not shown before an item has finished since the step (re)started', () => {
    const { bus, text } = watch({});
    start(bus, 'items');
    bus.emit('pipeline.step.progress', { runId: 'r1', step: 'items', done: 32, failed: 0, total: 40 });

    expect(text()).toContain('items: 32/40\n');
    expect(text()).not.toContain('ETA');
  });

  it('counts down on a terminal from the last event', async () => {
    const { bus, text } = watch({ isTTY: true, columns: 120 });
    start(bus, 'items');
    bus.emit('pipeline.step.progress', { runId: 'r1', step: 'items', done: 1, failed: 0, total: 40, etaMs: 3_900 });
    await new Promise((resolve) => setTimeout(resolve, 350));
    const last = text().split(ERASE).at(-1) ?? '';

    const eta = /1\/40 ETA (\d\.\d)s/.exec(last);
    expect(Number(eta?.[1])).toBeGreaterThanOrEqual(3.4);
    expect(Number(eta?.[1])).toBeLessThanOrEqual(3.6);
  });
});

describe("a run's first line", () => {
  it('says `1 step`, `3 steps` (was: `1 steps`)', () => {
    const { bus, text } = watch({});
    bus.emit('pipeline.execution.start', { runId: 'r1', pipeline: 'one', resumed: false, steps: 1 });
    bus.emit('pipeline.execution.start', { runId: 'r2', pipeline: 'three', resumed: true, steps: 3 });
    expect(text()).toBe('running one (run r1, 1 step)\nresuming three (run r2, 3 steps)\n');
  });
});

describe('the live line on a terminal', () => {
  const names = [1, 2, 3, 4, 5, 6].map((n) => `summarize_chapter_${n}_of_the_book`);

  /** Each state of the live line drawn so far (what follows each erase). */
  const drawn = (text: string) => text.split(ERASE).filter((part) => part !== '');

  it('is cut to the terminal width, escapes not counted, and never wraps', () => {
    const { bus, text } = watch({ isTTY: true, columns: 80 }, { FORCE_COLOR: '1' });
    for (const name of names) start(bus, name);

    const lines = drawn(text());
    expect(lines).toHaveLength(names.length);
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect(stripVTControlCharacters(line).length).toBeLessThanOrEqual(79);
    }
    const widest = lines.at(-1) as string;
    expect(stripVTControlCharacters(widest)).toMatch(
      /^⠿ summarize_chapter_1_of_the_book \d+ms {2}⠿ summarize_chapter_2.*…$/,
    );
    expect(stripVTControlCharacters(widest).length).toBe(79);
    // Colours survive the cut whole: every escape is complete, and each one opened is closed.
    const count = (codes: string[]) => codes.reduce((n, code) => n + widest.split(`\x1b[${code}m`).length - 1, 0);
    expect(stripVTControlCharacters(widest)).not.toContain('\x1b'); // no escape cut in two
    expect(count(['36', '2'])).toBeGreaterThan(0);
    expect(count(['36', '2'])).toBe(count(['39', '22']));
  });

  it('follows the width of the terminal as it is now', () => {
    const { bus, stream, text } = watch({ isTTY: true, columns: 30 });
    start(bus, names[0] as string);
    stream.columns = 100; // resized: the stream's columns is what Node keeps up to date
    start(bus, names[1] as string);

    const [narrow, wide] = drawn(text()).map((line) => stripVTControlCharacters(line));
    // One step running: its name gives way, its time stays.
    expect(narrow).toMatch(/^⠿ summarize_chapter_1_of…? \d+ms$/);
    expect(narrow?.length).toBeLessThanOrEqual(29);
    expect(wide).toMatch(/^⠿ summarize_chapter_1_of_the_book \d+ms {2}⠿ summarize_chapter_2_of_the_book \d+ms$/);
  });

  it("cuts a long step name, not the batch's counter and ETA, on a narrow terminal", async () => {
    const { bus, text } = watch({ isTTY: true, columns: 40 });
    start(bus, 'a_really_long_step_name_that_goes_on_and_on');
    bus.emit('pipeline.step.progress', {
      ...{ runId: 'r1', step: 'a_really_long_step_name_that_goes_on_and_on' },
      ...{ done: 8, failed: 0, total: 20, etaMs: 4_300 },
    });
    // The live line is redrawn every 100 ms: wait for a drawing that shows the progress (a loaded
    // machine may delay the timer).
    const withProgress = () =>
      drawn(text())
        .map((line) => stripVTControlCharacters(line))
        .filter((l) => l.includes('8/20'));
    await vi.waitFor(() => expect(withProgress().length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
    const last = withProgress().at(-1) as string;
    expect(last).toMatch(/^⠿ a_really_long_\S*… \d+ms 8\/20 ETA 4\.\ds$/);
    expect(last.length).toBeLessThanOrEqual(39);
  });

  it('when the terminal does not say its width, fits COLUMNS, else 80 columns', () => {
    const fromEnv = watch({ isTTY: true }, { COLUMNS: '50' });
    for (const name of names) start(fromEnv.bus, name);
    expect(stripVTControlCharacters(drawn(fromEnv.text()).at(-1) as string)).toHaveLength(49);
    detach?.();

    const plain = watch({ isTTY: true });
    for (const name of names) start(plain.bus, name);
    expect(stripVTControlCharacters(drawn(plain.text()).at(-1) as string)).toHaveLength(79);
  });
});

describe('fitToColumns', () => {
  it('leaves a line that fits as it is', () => {
    expect(fitToColumns('\x1b[36mabc\x1b[39m', 3)).toBe('\x1b[36mabc\x1b[39m');
  });

  it('cuts the visible characters only, ends with …, keeps the escapes that follow the cut', () => {
    expect(fitToColumns('\x1b[36mabcdef\x1b[39m gh', 4)).toBe('\x1b[36mabc…\x1b[39m');
    expect(fitToColumns('ab\x1b[2mcd\x1b[22m', 3)).toBe('ab\x1b[2m…\x1b[22m');
  });

  it('counts wide characters as two columns and combining marks as none', () => {
    expect(visibleWidth('章節e\u0301')).toBe(5);
    expect(fitToColumns('章節章節', 5)).toBe('章節…');
    expect(fitToColumns('章節章節', 4)).toBe('章…');
  });

  it('takes the width from the stream, else COLUMNS, else 80', () => {
    expect(terminalColumns({ columns: 132 }, { COLUMNS: '50' })).toBe(132);
    expect(terminalColumns({}, { COLUMNS: '50' })).toBe(50);
    expect(terminalColumns({}, { COLUMNS: 'wide' })).toBe(80);
    expect(terminalColumns({ columns: 0 }, {})).toBe(80);
  });
});

describe('--stream output when a step starts over', () => {
  /** Progress with --stream: what reaches stdout (a pipe, no colors). */
  function streamed() {
    const bus = new EventBus();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk) => {
      text += chunk;
    });
    detach = attachProgress(bus, createCliContext({ stderr: new PassThrough(), stdout, env: {} }), { stream: true });
    const chunk = (text: string, reset?: true) =>
      bus.emit('pipeline.step.chunk', { runId: 'r1', step: 'write', text, ...(reset ? { reset } : {}) });
    return { chunk, text: () => text };
  }

  it('marks the text printed so far as void on a line of its own, then prints the text again', () => {
    const { chunk, text } = streamed();
    chunk('The quick brown fox ju');
    chunk('', true);
    chunk('The quick brown fox jumps.');
    expect(text()).toBe(
      'The quick brown fox ju\n↺ write: cut off, the text above is void — streaming it again\nThe quick brown fox jumps.',
    );
  });

  it('prints nothing for a reset of a step that has printed nothing since it last started over', () => {
    const { chunk, text } = streamed();
    chunk('', true);
    chunk('Answer.');
    chunk('', true);
    chunk('', true);
    expect(text()).toBe('Answer.\n↺ write: cut off, the text above is void — streaming it again\n');
  });
});

describe("a batch's progress lines", () => {
  // The engine's first event and its last said the same count: `each: 0/0` was printed twice.
  it('a batch of no items prints 0/0 once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-progress-'));
    const file = join(dir, 'empty.yaml');
    writeFileSync(
      file,
      [
        'name: empty',
        'inputs: { things: { type: array, default: [] } }',
        'steps:',
        '  - name: each',
        '    type: batch',
        '    items: "{{ things }}"',
        '    step_template: { type: mock, model: m, prompt: "{{ item }}" }',
        '',
      ].join('\n'),
    );
    const result = await runMain(['run', file, '--mock', '--db', join(dir, 'j.db')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/each: 0\/0/g)).toEqual(['each: 0/0']);
    // A batch with items still ends on its final count.
    const two = await runMain(['run', file, '--mock', '--db', join(dir, 'j.db'), '--input', 'things=["a","b"]']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/each: 0\/2\n(.*\n)*\s+each: 2\/2\n/);
  });
});

describe('a failed step', () => {
  it('prints every line of its error under it, a placed error’s hint line included', () => {
    const { bus, text } = watch({});
    start(bus, 'review');
    bus.emit('pipeline.step.stop', {
      runId: 'r1',
      step: 'review',
      type: 'mock',
      status: 'failed',
      durationMs: 3,
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      attempts: 1,
      fromJournal: false,
      error: 'review.yaml:8:24: undefined variable "x" at steps[1].prompt\n  hint: use `| default: …`',
    });
    const lines = stripVTControlCharacters(text()).split('\n');
    const at = lines.findIndex((l) => l.includes('review.yaml:8:24'));
    expect(lines[at]).toBe('    review.yaml:8:24: undefined variable "x" at steps[1].prompt');
    expect(lines[at + 1]).toBe('      hint: use `| default: …`');
  });
});
