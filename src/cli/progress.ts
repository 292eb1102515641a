// Progress of a run on the terminal: the first subscriber of the event bus. On a TTY the running
// step is redrawn in place with its elapsed time (and done/total + ETA for a batch); elsewhere
// (CI logs, pipes) each start and stop is one plain line. Progress goes to stderr, so stdout
// carries only results (and streamed tokens with --stream).
import type { EventBus } from '../telemetry/event-bus.js';
import type { CliContext } from './context.js';
import { formatCost, formatDuration, formatTokens } from './format.js';

export interface ProgressOptions {
  /** Print streamed chunks to stdout as they arrive. */
  stream: boolean;
}

export function attachProgress(bus: EventBus, ctx: CliContext, options: ProgressOptions): () => void {
  const c = ctx.colors;
  const out = ctx.stderr;
  const tty = Boolean(ctx.stderr.isTTY) && !('CI' in ctx.env);
  const running = new Map<string, { started: number; type: string; progress?: string }>();
  let liveLine = false;
  let streamedStep: string | undefined;

  const clearLive = () => {
    if (liveLine) out.write('\r\x1b[2K');
    liveLine = false;
  };
  const drawLive = () => {
    if (!tty || running.size === 0 || streamedStep) return;
    const now = performance.now();
    const parts = [...running.entries()].map(([step, s]) => {
      const elapsed = formatDuration(now - s.started);
      return `${c.cyan('⠿')} ${step} ${c.dim(elapsed)}${s.progress ? ` ${s.progress}` : ''}`;
    });
    clearLive();
    out.write(parts.join('  ').slice(0, 200));
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
        `${c.bold(e.resumed ? 'resuming' : 'running')} ${e.pipeline} ${c.dim(`(run ${e.runId}, ${e.steps} steps)`)}`,
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
      const elapsed = performance.now() - s.started;
      const finished = e.done; // `done` counts every finished item, the failed ones included
      const eta =
        finished > 0 && finished < e.total ? ` ETA ${formatDuration((elapsed / finished) * (e.total - finished))}` : '';
      s.progress = `${finished}/${e.total}${e.failed ? c.red(` (${e.failed} failed)`) : ''}${eta}`;
      if (!tty) line(`  ${e.step}: ${s.progress}`);
    }),
    bus.on('pipeline.step.chunk', (e) => {
      if (!options.stream) return;
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
      const icon = e.status === 'succeeded' ? c.green('✓') : e.status === 'skipped' ? c.dim('○') : c.red('✗');
      const from = e.fromJournal ? c.dim(' (from the journal)') : '';
      const figures = e.fromJournal
        ? ''
        : c.dim(`  ${formatDuration(e.durationMs)}  ${formatTokens(e.usage)}  ${formatCost(e.costUsd)}`);
      const error = e.error ? `\n    ${c.red(e.error)}` : '';
      line(`${icon} ${e.step}${e.status === 'skipped' ? c.dim(' skipped') : ''}${from}${figures}${error}`);
    }),
  ];

  return () => {
    if (timer) clearInterval(timer);
    clearLive();
    if (streamedStep) ctx.stdout.write('\n');
    for (const off of offs) off();
  };
}
