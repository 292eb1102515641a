// What `elexirion health` does (commands/health.ts defines its flags): loaded when it runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '../../errors.js';
import { EventLoopMonitor } from '../../health/event-loop.js';
import { checkHealth, type HealthReport } from '../../health/health.js';
import type { Store } from '../../journal/store.js';
import { createRedactor } from '../../telemetry/redact.js';
import type { CliContext } from '../context.js';
import { openStore } from '../open-store.js';

/** Long enough for the lag histogram to hold a few samples. */
const LAG_SAMPLE_MS = 100;

/** Checks, prints the report; returns the exit code. */
export async function healthCommand(options: { json?: boolean; db?: string }, ctx: CliContext): Promise<number> {
  const eventLoop = new EventLoopMonitor();
  let store: Store | undefined;
  let probe: Pick<Store, 'listRuns'>;
  try {
    // Like the other commands that read the journal, never create one: a mistyped --db is an
    // unhealthy "no journal at PATH", not a new empty journal reported healthy.
    store = await openStore(options.db, ctx, { existing: true });
    probe = store;
  } catch (error) {
    probe = { listRuns: () => Promise.reject(error) };
  }
  try {
    await sleep(LAG_SAMPLE_MS);
    const running = store ? (await store.listRuns({ status: 'running', limit: 10_000 }).catch(() => [])).length : 0;
    const report = await checkHealth({ store: probe, activeRuns: running, eventLoop, env: ctx.env });
    const redact = createRedactor(ctx.env);
    ctx.stdout.write(redact(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, ctx)));
    return report.status === 'healthy' ? ExitCode.ok : ExitCode.runFailed;
  } finally {
    eventLoop.stop();
    await store?.close();
  }
}

function formatReport(report: HealthReport, ctx: CliContext): string {
  const c = ctx.colors;
  const paint = (s: string) =>
    s === 'ok' || s === 'healthy' ? c.green(s) : s === 'fail' || s === 'unhealthy' ? c.red(s) : c.yellow(s);
  const { database, providers, memory, activeRuns, eventLoop } = report.checks;
  const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
  const rows: [string, string, string][] = [
    ['database', database.status, database.error ?? `${database.latencyMs} ms`],
    [
      'providers',
      providers.status,
      providers.providers
        .map((p) => `${p.name}: ${p.keyPresent === false ? 'no key' : 'key present'}, circuit ${p.circuit}`)
        .join('; '),
    ],
    ['memory', memory.status, `rss ${mib(memory.rssBytes)}, heap ${Math.round(memory.heapUsedRatio * 100)}% of limit`],
    ['active runs', activeRuns.status, `${activeRuns.count} marked running in the journal`],
    ['event loop', eventLoop.status, `lag p99 ${eventLoop.p99Ms} ms, max ${eventLoop.maxMs} ms`],
  ];
  const lines = rows.map(([name, status, detail]) => `  ${name.padEnd(12)} ${paint(status.padEnd(4))}  ${detail}`);
  return `elexirion: ${paint(report.status)}\n${lines.join('\n')}\n`;
}
