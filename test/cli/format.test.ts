// How the CLI prints durations, costs and when it colors: the small formats every command shares.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { formatCost, formatDuration } from '../../src/cli/format.js';
import { attachProgress } from '../../src/cli/progress.js';
import { priceCall } from '../../src/pricing/index.js';
import { EventBus } from '../../src/telemetry/event-bus.js';

describe('formatDuration', () => {
  it('rounds before splitting into units: never 60 seconds or 60 minutes', () => {
    expect(formatDuration(119_600)).toBe('2m0s');
    expect(formatDuration(3_599_999)).toBe('1h0m');
    expect(formatDuration(59_960)).toBe('1m0s');
    expect(formatDuration(999.6)).toBe('1.0s');
    expect(formatDuration(7_199_999)).toBe('2h0m');
  });

  it('keeps the usual forms', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(55)).toBe('55ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(59_940)).toBe('59.9s');
    expect(formatDuration(61_000)).toBe('1m1s');
    expect(formatDuration(3_540_000)).toBe('59m0s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});

describe('formatCost', () => {
  it('never shows a paid call as a zero cost, however cheap', () => {
    // gpt-5-nano, 200 tokens in and 50 out: $0.00003.
    const usd = priceCall('openai', 'gpt-5-nano', { inputTokens: 200, outputTokens: 50 }) as number;
    expect(usd).toBeGreaterThan(0);
    expect(formatCost(usd)).toBe('<$0.0001');
    expect(formatCost(Number.MIN_VALUE)).toBe('<$0.0001');
    expect(formatCost(0.0000999)).toBe('<$0.0001');
  });

  it('keeps the usual forms: $0 for nothing paid, $? for unknown, 4 decimals under a cent, else 2', () => {
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(null)).toBe('$?');
    expect(formatCost(undefined)).toBe('$?');
    expect(formatCost(0.0001)).toBe('$0.0001');
    expect(formatCost(0.00063)).toBe('$0.0006');
    expect(formatCost(0.0123)).toBe('$0.01');
    expect(formatCost(1.5)).toBe('$1.50');
  });

  it("is what a step's progress line shows", () => {
    const bus = new EventBus();
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk) => {
      text += chunk;
    });
    const detach = attachProgress(bus, createCliContext({ stderr, stdout: new PassThrough(), env: {} }), {
      stream: false,
    });
    try {
      bus.emit('pipeline.step.stop', {
        runId: 'r1',
        step: 'tiny',
        type: 'openai',
        status: 'succeeded',
        durationMs: 5,
        usage: { inputTokens: 200, outputTokens: 50 },
        costUsd: 0.00003,
        attempts: 1,
        fromJournal: false,
      });
    } finally {
      detach();
    }
    expect(text).toContain('200→50 tok  <$0.0001');
  });
});

describe('colors', () => {
  const tty = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: true });
  const pipe = new Writable({ write: (_c, _e, done) => done() });
  const colored = (env: NodeJS.ProcessEnv, stdout: Writable = pipe) =>
    createCliContext({ env, stdout }).colors.isColorSupported;

  it('follow the terminal when neither variable is set', () => {
    expect(colored({}, tty)).toBe(true);
    expect(colored({}, pipe)).toBe(false);
  });

  it('FORCE_COLOR=0 or false turns them off, even on a terminal', () => {
    expect(colored({ FORCE_COLOR: '0' }, tty)).toBe(false);
    expect(colored({ FORCE_COLOR: 'false' }, tty)).toBe(false);
  });

  it('any other FORCE_COLOR turns them on, even in a pipe', () => {
    for (const value of ['1', '2', '3', 'true', '']) expect(colored({ FORCE_COLOR: value }, pipe)).toBe(true);
  });

  it('NO_COLOR wins over FORCE_COLOR', () => {
    expect(colored({ NO_COLOR: '1', FORCE_COLOR: '1' }, tty)).toBe(false);
  });
});
