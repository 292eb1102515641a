// What a composite step says applies as it says: a parallel group's output lists its sub-steps in
// declared order (whatever order they finished in), and a batch step's `cache:` and `retry:` are its
// items' calls'.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-composite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** An engine WITH the call cache (the default), as `elexirion run` has. */
function engineOn(db: string): Engine {
  const store = new SqliteStore(join(dir, db));
  stores.push(store);
  return new Engine({ store, env: {} });
}
async function runFile(engine: Engine, name: string, yaml: string): Promise<RunResult> {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return (await engine.start(await loadPipeline(file), { mock: true })).result;
}
const step = (r: RunResult, key: string) => r.steps.find((s) => s.key === key);

describe('parallel', () => {
  // The docs' own example: `prompt: "Merge {{ steps.views.output | json }} …"`.
  const views = `
name: three_views
steps:
  - name: views
    type: parallel
    steps:
      - { name: security, type: mock, prompt: Look for security problems, latency: 200ms }
      - { name: style, type: mock, prompt: Look for style problems, latency: 10ms }
  - name: merge
    type: mock
    prompt: "Merge {{ steps.views.output | json }}"
`;

  it("the group's output map is in declaration order, not in the order its sub-steps finished", async () => {
    const r = await runFile(engineOn('order.db'), 'views.yaml', views);
    expect(r.status).toBe('succeeded');
    // It was ['style', 'security']: the faster sub-step first.
    expect(Object.keys(step(r, 'views')?.output as object)).toEqual(['security', 'style']);
  });

  it('the same answers give the same downstream prompt: a second run is a cache hit for `merge`', async () => {
    const engine = engineOn('cache.db');
    const first = await runFile(engine, 'views2.yaml', views);
    const second = await runFile(engine, 'views2.yaml', views);
    expect(second.status).toBe('succeeded');
    // The sub-steps are cache hits (instant), so they finish in declaration order this time ...
    expect(step(second, 'security')?.details?.cache_hits).toBe(1);
    expect(step(second, 'style')?.details?.cache_hits).toBe(1);
    // ... and the group's JSON is the same, so `merge` is asked the same and answered from the cache
    // (it was asked another prompt, and paid again).
    expect(step(first, 'merge')?.output).toBe(step(second, 'merge')?.output);
    expect(step(second, 'merge')?.details?.cache_hits).toBe(1);
  });
});

describe('batch', () => {
  it('`cache: false` on a batch step ("every step accepts: cache … false to neither read nor write") is honoured', async () => {
    const engine = engineOn('batch-cache.db');
    const yaml = `
name: fresh_reviews
steps:
  - name: reviews
    type: batch
    items: [a, b]
    cache: false
    step_template: { type: mock, prompt: "review {{ item }}" }
`;
    await runFile(engine, 'bc.yaml', yaml);
    const second = await runFile(engine, 'bc.yaml', yaml);
    // It was 2: both items answered from the cache, the key accepted and silently ignored.
    expect(step(second, 'reviews')?.details?.cache_hits).toBe(0);
  });

  it('`retry:` on a batch step is its items’ calls’, unless the template sets its own', async () => {
    const engine = engineOn('batch-retry.db');
    const r = await runFile(
      engine,
      'br.yaml',
      `
name: retried
steps:
  - name: reviews
    type: batch
    items: [a]
    retry: { max_attempts: 5, base_delay: 1ms }
    step_template: { type: mock, prompt: "review {{ item }}", fail_first: 3 }
`,
    );
    // It failed after the default 3 attempts ("mock failure 3 of 3").
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('succeeded');
  });
});
