// Progress of a run on the terminal: the first subscriber of the event bus. On a TTY the running
// steps are redrawn in place, on one line cut to the terminal's width, with their elapsed time (and
// done/total + ETA for a batch); elsewhere (CI logs, pipes) each start and stop is one plain line.
// Progress goes to stderr, so stdout carries only results (and streamed tokens with --stream).
// A terminal cannot take back streamed text: when an attempt cut off mid-answer is retried, or the
// step falls back (a chunk event with `reset`), a marker line on stdout says that the text above is
// void, and the step's text streams again after it.
import type { EventBus } from '../telemetry/event-bus.js';
import type { EventMap } from '../telemetry/events.js';
import type { CliContext } from './context.js';
import {
  count,
  fitToColumns,
  formatCost,
  formatDuration,
  formatTokens,
  terminalColumns,
  visibleWidth,
} from './format.js';

type ProgressEvent = EventMap['pipeline.step.progress'];

export interface ProgressOptions {
  /** Print streamed chunks to stdout as they arrive. */
  stream: boolean;
}

/**
 * Detaches the progress (its last live line erased); `line` prints a line of the caller's among the
 * progress lines (a chain's link), the live line erased first and drawn again after it.
 */
export type Progress = (() => void) & { line: (text: string) => void };

export function attachProgress(bus: EventBus, ctx: CliContext, options: ProgressOptions): Progress {
  const c = ctx.stderrColors; // for what goes to stderr; ctx.colors for stdout
  const out = ctx.stderr;
  const tty = Boolean(ctx.stderr.isTTY) && !('CI' in ctx.env);
  // A batch's last progress event, and when it came (its ETA counts down from there between events).
  const running = new Map<string, { started: number; type: string; progress?: { event: ProgressEvent; at: number } }>();
  let liveLine = false;
  let streamedStep: string | undefined;
  /** Steps whose text was printed since they last started over (a reset). */
  const printed = new Set<string>();

  /** done/total, the failed ones, and the event's ETA less the time since it came. */
  const progressText = (e: ProgressEvent, sinceMs: number): string => {
    // `done` counts every finished item, the failed ones included. The ETA is the engine's: the pace
    // of the items run since the step (re)started, not counting those a resumed run found done.
    const eta =
      e.etaMs !== undefined && e.done < e.total ? ` ETA ${formatDuration(Math.max(0, e.etaMs - sinceMs))}` : '';
    return `${e.done}/${e.total}${e.failed ? c.red(` (${e.failed} failed)`) : ''}${eta}`;
  };
  const clearLive = () => {
    if (liveLine) out.write('\r\x1b[2K');
    liveLine = false;
  };
  const drawLive = () => {
    if (!tty || running.size === 0 || streamedStep) return;
    const now = performance.now();
    // One row, or "erase line" would leave the rows it wrapped onto behind at every redraw: cut to
    // the terminal's width (less one column, for terminals that wrap on the last one).
    const columns = terminalColumns(out, ctx.env) - 1;
    const parts = [...running.entries()].map(([step, s]) => {
      const elapsed = formatDuration(now - s.started);
      const progress = s.progress ? ` ${progressText(s.progress.event, now - s.progress.at)}` : '';
      const rest = ` ${c.dim(elapsed)}${progress}`;
      // One step running: its name gives way first — the counter and ETA are the news.
      const room = columns - visibleWidth(rest) - 2;
      const name = running.size === 1 && room >= 8 ? fitToColumns(step, room) : step;
      return `${c.cyan('⠿')} ${name}${rest}`;
    });
    clearLive();
    out.write(fitToColumns(parts.join('  '), columns));
    liveLine = true;
  };
  const timer = tty ? setInterval(drawLive, 100) : undefined;
  timer?.unref();
  const line = (text: string) => {
    clearLive();
    if (streamedStep) {
      ctx.stdout.write('\n');
      streamedStep = undefined;
    }
    out.write(`${text}\n`);
    drawLive();
  };

  const offs = [
    bus.on('pipeline.execution.start', (e) => {
      line(
        `${c.bold(e.resumed ? 'resuming' : 'running')} ${e.pipeline} ${c.dim(`(run ${e.runId}, ${count(e.steps, 'step')})`)}`,
      );
    }),
    bus.on('pipeline.step.start', (e) => {
      running.set(e.step, { started: performance.now(), type: e.type });
      if (!tty) line(`${c.dim('▶')} ${e.step} ${c.dim(`(${e.type})`)}`);
      else drawLive();
    }),
    bus.on('pipeline.step.progress', (e) => {
      const s = running.get(e.step);
      if (!s) return;
      s.progress = { event: e, at: performance.now() };
      if (!tty) line(`  ${e.step}: ${progressText(e, 0)}`);
    }),
    bus.on('pipeline.step.chunk', (e) => {
      if (!options.stream) return;
      if (e.reset) {
        // Nothing printed for the step yet: nothing to take back.
        if (!printed.delete(e.step)) return;
        clearLive();
        if (streamedStep) ctx.stdout.write('\n');
        streamedStep = undefined;
        ctx.stdout.write(
          `${ctx.colors.yellow('↺')} ${ctx.colors.dim(`${e.step}: cut off, the text above is void — streaming it again`)}\n`,
        );
        return;
      }
      if (e.text === '') return;
      printed.add(e.step);
      if (streamedStep !== e.step) {
        clearLive();
        if (streamedStep) ctx.stdout.write('\n');
        streamedStep = e.step;
      }
      ctx.stdout.write(e.text);
    }),
    bus.on('pipeline.provider.retry', (e) => {
      line(`  ${c.yellow('↻')} ${e.step}: retry ${e.attempt} in ${formatDuration(e.delayMs)} (${e.reason})`);
    }),
    bus.on('pipeline.step.stop', (e) => {
      running.delete(e.step);
      printed.delete(e.step);
      const icon = e.status === 'succeeded' ? c.green('✓') : e.status === 'skipped' ? c.dim('○') : c.red('✗');
      const from = e.fromJournal ? c.dim(' (from the journal)') : '';
      const figures = e.fromJournal
        ? ''
        : c.dim(`  ${formatDuration(e.durationMs)}  ${formatTokens(e.usage)}  ${formatCost(e.costUsd)}`);
      // Every line of it under the step (a placed error's `hint:` line included), not just the first.
      const error = e.error
        ? e.error
            .split('\n')
            .map((text) => `\n    ${c.red(text)}`)
            .join('')
        : '';
      line(`${icon} ${e.step}${e.status === 'skipped' ? c.dim(' skipped') : ''}${from}${figures}${error}`);
    }),
  ];

  let detached = false;
  const detach = () => {
    if (timer) clearInterval(timer);
    clearLive();
    if (streamedStep) ctx.stdout.write('\n');
    streamedStep = undefined;
    for (const off of offs) off();
    detached = true;
  };
  return Object.assign(detach, {
    line: (text: string) => {
      if (!detached) line(text);
    },
  });
}
