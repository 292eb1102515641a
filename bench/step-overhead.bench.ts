// The engine's overhead per step: a 500-step sequential chain of zero-latency mock calls through
// the engine, journal on (SQLite, WAL), against a bare-Node loop calling the same mock in the same
// process. Overhead per step = (engine − bare) / steps. Target: ≤ 50 µs per step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineFromString } from '../src/config/loader.js';
import { Engine } from '../src/engine/engine.js';
import { SqliteStore } from '../src/journal/sqlite-store.js';
import { MockProvider } from '../src/providers/mock.js';
import type { ModelRequest } from '../src/providers/provider.js';
import { warmUp } from './warm-up.js';

const STEPS = Number(process.argv[2] ?? 500);
// Ten rounds: the VMs this runs on wander by ±40 % within minutes; the best round shows what the
// code costs when nothing else gets in the way, the median what a run may expect.
const ROUNDS = 10;
// Six rounds of 500 steps (3,000) before measuring: the engine's path reaches its steady speed after
// 2,000–3,000 steps (warm-up.ts). The first of them is reported too, as the cold figure.
const WARM_UP_ROUNDS = 6;

const yaml = [
  'name: chain',
  'steps:',
  ...Array.from({ length: STEPS }, (_, i) => [
    `  - name: s${i}`,
    '    type: mock',
    `    prompt: "step ${i}: {{ ${i === 0 ? "'go'" : `steps.s${i - 1}.output`} | truncate: 40 }}"`,
  ]).flat(),
].join('\n');

/** CPU time of this process in ms: less disturbed than wall time when other processes share the cores. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(fn: () => Promise<void>): Promise<Timing> {
  const c0 = cpuMs();
  const w0 = performance.now();
  await fn();
  return { wall: performance.now() - w0, cpu: cpuMs() - c0 };
}

async function bare(): Promise<Timing> {
  const mock = new MockProvider('mock', { callLog: '' });
  const signal = new AbortController().signal;
  return timed(async () => {
    let previous = 'go';
    for (let i = 0; i < STEPS; i++) {
      const prompt = `step ${i}: ${previous.length > 40 ? `${previous.slice(0, 37)}...` : previous}`;
      const request: ModelRequest = {
        provider: 'mock',
        model: 'mock-1',
        messages: [{ role: 'user', content: prompt }],
      };
      previous = (await mock.generate(request, signal)).text;
    }
  });
}

async function engine(): Promise<Timing> {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-bench-'));
  const store = new SqliteStore(join(dir, 'journal.db'));
  const engine = new Engine({ store, env: {} });
  const loaded = loadPipelineFromString(yaml, join(dir, 'chain.yaml'));
  let result: Awaited<ReturnType<Engine['result']>> | undefined;
  const elapsed = await timed(async () => {
    result = await (await engine.start(loaded, { mock: true })).result;
    await store.getRun(result.run_id); // applies the journal's waiting writes: their cost is the run's
  });
  if (result?.status !== 'succeeded' || result.steps.length !== STEPS) throw new Error(`bench run ${result?.status}`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

const cold = await warmUp(WARM_UP_ROUNDS, async () => ({ bare: await bare(), engine: await engine() }));
const bareTimes: Timing[] = [];
const engineTimes: Timing[] = [];
for (let r = 0; r < ROUNDS; r++) {
  bareTimes.push(await bare());
  engineTimes.push(await engine());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const best = (xs: number[]) => Math.min(...xs);
const perStep = (ms: number) => ((ms / STEPS) * 1000).toFixed(1).padStart(8);
console.log(`workload: ${STEPS}-step sequential chain, zero-latency mock, journal on (SQLite WAL, synchronous=NORMAL)`);
console.log(
  `${ROUNDS} rounds after ${WARM_UP_ROUNDS} of warm-up (the JIT); wall = elapsed time, cpu = this process's CPU time; the target is judged on the median wall time`,
);
const rows = [
  ['wall, median', 'wall', median],
  ['wall, best  ', 'wall', best],
  ['cpu, median ', 'cpu', median],
] as const;
for (const [label, kind, pick] of rows) {
  const b = pick(bareTimes.map((t) => t[kind]));
  const e = pick(engineTimes.map((t) => t[kind]));
  const overhead = ((e - b) / STEPS) * 1000;
  console.log(
    `${label}: bare Node ${perStep(b)} µs/step | engine ${perStep(e)} µs/step | overhead ${overhead.toFixed(1).padStart(7)} µs/step (target ≤ 50: ${overhead <= 50 ? 'met' : 'MISSED'}) | ratio ${(e / b).toFixed(1)}x`,
  );
}
const coldOverhead = ((cold.engine.wall - cold.bare.wall) / STEPS) * 1000;
console.log(
  `wall, cold  : bare Node ${perStep(cold.bare.wall)} µs/step | engine ${perStep(cold.engine.wall)} µs/step | overhead ${coldOverhead.toFixed(1).padStart(7)} µs/step (the process's first run, JIT cold: what one \`elexirion run\` meets; not judged)`,
);
