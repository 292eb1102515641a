// 1,000 runs submitted at once over HTTP to an in-process `serve` (mock provider with latency, a
// journal file on disk): every submission answered 202, every run finished and succeeded, none
// lost. Reports submit latency (p50/p99), time until all finished, and peak RSS.
// Run: npx tsx bench/http-load.bench.ts [runs]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/journal/sqlite-store.js';
import { startService } from '../src/server/service.js';

const RUNS = Number(process.argv[2] ?? 1000);
const TOKEN = 'bench-token-0123456789';
const PIPELINE = `name: load
steps:
  - name: first
    type: mock
    prompt: "first {{ run.id }}"
    latency: 50ms
  - name: second
    type: mock
    prompt: "second after {{ steps.first.output }}"
    latency: 50ms
outputs:
  answer: "{{ steps.second.output }}"
`;

const dir = mkdtempSync(join(tmpdir(), 'elexirion-http-load-'));
writeFileSync(join(dir, 'load.yaml'), PIPELINE);
const store = new SqliteStore(join(dir, 'journal.db'));
const service = await startService({ store, root: dir, port: 0, token: TOKEN, env: {} });

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

let finished = 0;
const allFinished = new Promise<void>((resolve) => {
  service.engine.bus.on('pipeline.execution.stop', () => {
    if (++finished === RUNS) resolve();
  });
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const started = performance.now();
const submissions = await Promise.all(
  Array.from({ length: RUNS }, async () => {
    const t0 = performance.now();
    const res = await fetch(`${service.url}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ file: 'load.yaml', mock: true }),
    });
    const body = (await res.json()) as { run_id?: string; error?: string };
    return { status: res.status, runId: body.run_id, error: body.error, ms: performance.now() - t0 };
  }),
);
const submittedMs = performance.now() - started;
await allFinished;
const doneMs = performance.now() - started;
clearInterval(sampler);

const accepted = submissions.filter((s) => s.status === 202 && s.runId);
const ids = new Set(accepted.map((s) => s.runId));
const runs = await store.listRuns({ limit: RUNS * 2 });
const succeeded = runs.filter((r) => r.status === 'succeeded' && ids.has(r.id)).length;
const latencies = submissions.map((s) => s.ms).sort((a, b) => a - b);

console.log(`${RUNS} runs submitted concurrently over HTTP (2 mock steps × 50 ms each), node ${process.version}`);
console.log(
  `accepted (202)          ${accepted.length} / ${RUNS}${accepted.length < RUNS ? `  first error: ${submissions.find((s) => s.status !== 202)?.error}` : ''}`,
);
console.log(`distinct run ids        ${ids.size}`);
console.log(`succeeded in journal    ${succeeded} / ${RUNS}`);
console.log(
  `submit latency          p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms   max ${(latencies.at(-1) ?? 0).toFixed(1)} ms`,
);
console.log(`all submitted after     ${submittedMs.toFixed(0)} ms`);
console.log(`all finished after      ${doneMs.toFixed(0)} ms`);
console.log(`peak RSS                ${(peakRss / 2 ** 20).toFixed(0)} MiB`);

await service.shutdown(5000);
await store.close();
rmSync(dir, { recursive: true, force: true });
const lost = RUNS - succeeded;
if (lost > 0 || ids.size !== RUNS) {
  console.log(`FAILED: ${lost} runs lost or failed`);
  process.exitCode = 1;
}
