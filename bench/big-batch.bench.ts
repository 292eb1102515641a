// A 100,000-item batch with zero mock latency, journal on (SQLite in a temp dir): the peak RSS of
// the process, as the OS counts it (getrusage maxrss). Items stream through a window of workers and
// their results live in the journal, so memory must stay bounded. Target: peak RSS under 300 MB.
// "RSS before the run" is the process with the engine loaded (the module graph, vendor SDKs included);
// "live heap after the run" shows what the batch left behind.
import { benchEngine } from './bench-engine.js';

const ITEMS = Number(process.argv[2] ?? 100_000);
const MAX_PARALLEL = 50;
const TARGET_MB = 300;
const mb = (bytes: number) => bytes / 2 ** 20;

const pipeline = `
name: big-batch
inputs:
  count: { type: integer, default: 0 }
steps:
  - name: numbers
    type: set_variable
    variables:
      things: "{{ (1..count) | join: ',' | split: ',' }}"
  - name: each
    type: batch
    items: "{{ things }}"
    max_parallel: ${MAX_PARALLEL}
    step_template:
      type: mock
      prompt: "item {{ index }}: {{ item }}"
`;

const { engine, store, loaded, dispose } = benchEngine('big', pipeline, MAX_PARALLEL);
const baseline = mb(process.memoryUsage().rss);
const t0 = performance.now();
const handle = await engine.start(loaded, { mock: true, inputs: { count: ITEMS } });
const result = await handle.result;
const seconds = (performance.now() - t0) / 1000;
if (result.status !== 'succeeded') throw new Error(`big batch ${result.status}: ${result.error}`);
const journaled = (await store.countItems(result.run_id, 'each')).succeeded;
const peak = process.resourceUsage().maxRSS / 1024;
// What stays alive: with --expose-gc (bench/run.ts passes it) a full collection first.
(globalThis as { gc?: () => void }).gc?.();
const live = mb(process.memoryUsage().heapUsed);
await dispose();

console.log(`big batch: ${ITEMS} items, zero latency, max_parallel ${MAX_PARALLEL}, journal on (SQLite WAL)`);
console.log(`items journaled        ${journaled} of ${ITEMS}`);
console.log(`time                   ${seconds.toFixed(1)} s   (${Math.round(ITEMS / seconds)} items/s)`);
console.log(`RSS before the run     ${baseline.toFixed(0)} MB`);
console.log(`peak RSS               ${peak.toFixed(0)} MB   (target < ${TARGET_MB} MB)`);
console.log(
  `RSS growth in the run  ${(peak - baseline).toFixed(0)} MB (V8 lets garbage pile up before a full collection)`,
);
console.log(`live heap after the run ${live.toFixed(0)} MB (after a full GC)`);
console.log(`target ${peak < TARGET_MB ? 'met' : 'MISSED'}`);
