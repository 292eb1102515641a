// A run left `running` by its process, as the orphaned-runs tests need it: the journal holds the
// run, owned as `owner` says, and one finished step of it.
import { spawnSync } from 'node:child_process';
import type { SqliteStore } from '../../src/journal/sqlite-store.js';
import { emptyTotals } from '../../src/journal/store.js';

/** The pid of a process that has ended (a child run to its end). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Journals run `id`, `running`, owned as `owner` says, with its step `a` finished at `stepAt`. */
export async function journalRunningRun(
  store: SqliteStore,
  id: string,
  owner: Record<string, unknown>,
  stepAt: number,
): Promise<void> {
  await store.createRun({
    id,
    pipelineName: 'p',
    pipelineHash: 'h',
    pipeline: { name: 'p', steps: [{ name: 'a', type: 'mock', prompt: 'hi' }] },
    inputs: {},
    status: 'running',
    startedAt: stepAt - 1_000,
    totals: emptyTotals(),
    metadata: owner,
  });
  await store.commitStep(
    {
      runId: id,
      key: 'a',
      name: 'a',
      type: 'mock',
      status: 'succeeded',
      output: 'x',
      usage: { inputTokens: 3, outputTokens: 4 },
      costUsd: 0,
      durationMs: 1,
      attempts: 1,
      startedAt: stepAt - 1,
      finishedAt: stepAt,
    },
    [],
  );
}
