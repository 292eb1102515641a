// An engine on a fresh SQLite journal in a temp dir, with one mock pipeline loaded: what every
// engine benchmark starts from. The mock's gate is as wide as the benchmark asks, so the gate is
// never the bottleneck being measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadedPipeline, loadPipelineFromString } from '../src/config/loader.js';
import { Engine } from '../src/engine/engine.js';
import { SqliteStore } from '../src/journal/sqlite-store.js';
import { GateRegistry } from '../src/resilience/gate-registry.js';

export interface BenchEngine {
  engine: Engine;
  store: SqliteStore;
  loaded: LoadedPipeline;
  /** Closes the journal and removes its directory. */
  dispose(): Promise<void>;
}

export function benchEngine(name: string, yaml: string, mockSlots: number): BenchEngine {
  const dir = mkdtempSync(join(tmpdir(), `elexirion-${name}-`));
  const store = new SqliteStore(join(dir, 'journal.db'));
  const engine = new Engine({
    store,
    env: {},
    gates: new GateRegistry(undefined, { mock: { max_concurrency: mockSlots, max_queue: mockSlots } }),
  });
  const loaded = loadPipelineFromString(yaml, join(dir, `${name}.yaml`));
  return {
    engine,
    store,
    loaded,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
