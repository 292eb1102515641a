// A nested pipeline that declares a provider name its parent declares otherwise (another base_url)
// calls its own endpoint, through its own gate: provider and gate come from the same declaration
// (src/engine/run-provider.ts, src/engine/model-caller-for.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { OpenAIFake } from '../fakes/index.js';

afterEach(async () => {
  await closePools();
});

it("a nested pipeline's own declaration of a provider is where its calls go", async () => {
  const a = new OpenAIFake();
  const b = new OpenAIFake();
  const urlA = `${await a.start()}/v1`;
  const urlB = `${await b.start()}/v1`;
  const dir = mkdtempSync(join(tmpdir(), 'nested-'));
  const store = new SqliteStore(join(dir, 'j.db'));
  const gates = new GateRegistry();
  const engine = new Engine({ store, cache: false, gates, env: { K: 'k' } });
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'parent',
      providers: { local: { type: 'openai', base_url: urlA, api_key_env: 'K' } },
      steps: [
        { name: 'first', type: 'llm', provider: 'local', model: 'm', prompt: 'parent' },
        {
          name: 'child',
          type: 'pipeline',
          pipeline: {
            name: 'child',
            providers: { local: { type: 'openai', base_url: urlB, api_key_env: 'K' } },
            steps: [{ name: 'inner', type: 'llm', provider: 'local', model: 'm', prompt: 'child' }],
          },
        },
      ],
    }),
  );
  const handle = await engine.start(await loadPipeline(file), {});
  const result = await handle.result;
  await engine.drain();
  await store.close();
  await a.stop();
  await b.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(result.status).toBe('succeeded');
  // gates: one for A, one for B (the child's declaration)
  expect(gates.all().length).toBe(2);
  expect(b.requests.length).toBe(1); // actual: 0 — the child's call went to A through B's gate
  expect(a.requests.length).toBe(1);
});
