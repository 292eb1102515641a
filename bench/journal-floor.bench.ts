// What a journaled step costs the journal alone, with no engine around it: the step-overhead
// workload's 500 sequential zero-latency mock calls, each followed by what the engine hands the
// SQLite store for that step — its record (output, usage, details) and its four events, through
// `store.commitStep`, and its call record through the call cache (written behind, 512 to a batch) — against the same calls with no
// journal, in one process. The difference is the floor under the engine's per-step overhead on this
// machine with this journal design: the 50 µs target of the chain leaves the engine itself what
// this floor does not take (bench/README.md, ninth round).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallCache } from '../src/journal/call-cache.js';
import { SqliteStore } from '../src/journal/sqlite-store.js';
import type { EventRecord, StepRecord } from '../src/journal/store.js';
import { emptyTotals } from '../src/journal/store.js';
import { MockProvider } from '../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../src/providers/provider.js';

const STEPS = 500;
const ROUNDS = 10;
const mock = new MockProvider('mock', { callLog: '' });
const signal = new AbortController().signal;

/** The chain's calls; `journal` is handed each step's record after its call, as the engine does. */
async function chain(
  journal?: (i: number, request: ModelRequest, response: ModelResponse) => Promise<void>,
): Promise<number> {
  const t0 = performance.now();
  let previous = 'go';
  for (let i = 0; i < STEPS; i++) {
    const prompt = `step ${i}: ${previous.length > 40 ? `${previous.slice(0, 37)}...` : previous}`;
    const request: ModelRequest = { provider: 'mock', model: 'mock-1', messages: [{ role: 'user', content: prompt }] };
    const response = await mock.generate(request, signal);
    previous = response.text;
    await journal?.(i, request, response);
  }
  return performance.now() - t0;
}

/** One round with the journal: a fresh SQLite store, as the step-overhead benchmark's engine has. */
async function journaled(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-floor-'));
  const store = new SqliteStore(join(dir, 'journal.db'));
  const cache = new CallCache(store);
  const runId = `run-${Date.now()}`;
  const now = Date.now();
  await store.createRun({
    id: runId,
    pipelineName: 'chain',
    pipelineHash: 'h',
    pipeline: {},
    inputs: {},
    status: 'running',
    startedAt: now,
    totals: emptyTotals(),
    metadata: {},
  });
  let seq = 0;
  const usage = { inputTokens: 7, outputTokens: 13 };
  const ms = await chain(async (i, request, response) => {
    const at = Date.now();
    const step = `s${i}`;
    const event = (type: string, data: Record<string, unknown>): EventRecord => ({
      runId,
      seq: ++seq,
      type,
      at,
      data: { runId, step, ...data },
    });
    const events = [
      event('pipeline.step.start', { type: 'mock', index: i }),
      event('pipeline.provider.request', { provider: 'mock', model: 'mock-1', attempt: 1 }),
      event('pipeline.provider.response', { provider: 'mock', model: 'mock-1', durationMs: 0, usage, costUsd: 0 }),
      event('pipeline.step.stop', { type: 'mock', status: 'succeeded', durationMs: 0.3, usage, costUsd: 0 }),
    ];
    const record: StepRecord = {
      runId,
      key: step,
      name: step,
      type: 'mock',
      status: 'succeeded',
      output: response.text,
      usage,
      costUsd: 0,
      durationMs: 0.3,
      attempts: 1,
      startedAt: at,
      finishedAt: at,
      details: { provider: 'mock', model: 'mock-1', calls: 1, retries: 0 },
    };
    await store.commitStep(record, events);
    await cache.put({ key: `${runId}/${i}`, provider: 'mock', model: 'mock-1', request, response, usage, costUsd: 0 });
  });
  const t0 = performance.now();
  await cache.flush(); // as a run's end does
  await store.getRun(runId); // applies the waiting writes, as the step-overhead benchmark does
  const applied = performance.now() - t0;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return ms + applied;
}

await chain();
await journaled();
const bare: number[] = [];
const journal: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  bare.push(await chain());
  journal.push(await journaled());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const us = (ms: number) => ((ms / STEPS) * 1000).toFixed(1).padStart(6);
const floor = (median(journal) - median(bare)) / STEPS;
console.log(`${STEPS} sequential zero-latency mock calls, ${ROUNDS} rounds, medians; no engine`);
console.log(`bare calls                         ${us(median(bare))} µs/step`);
console.log(`calls + the SQLite journal's work  ${us(median(journal))} µs/step`);
console.log(
  `the journal's floor               ${(floor * 1000).toFixed(1).padStart(6)} µs/step  (the chain's target: 50 µs of overhead in all; this leaves the engine ${Math.max(0, 50 - floor * 1000).toFixed(1)} µs)`,
);
