// Test harness for the composition steps (batch, parallel, pipeline): an in-process engine on a
// SQLite journal in a temp dir, with a mock provider that counts calls, measures the peak number of
// calls in flight, fails any prompt containing "FAIL", and waits N ms on a prompt containing "sleep N".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';

export class CountingMock extends MockProvider {
  inFlight = 0;
  peak = 0;
  readonly prompts: string[] = [];

  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const prompt = request.messages.map((m) => m.content).join('\n');
    this.prompts.push(prompt);
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      const wait = /sleep (\d+)/.exec(prompt);
      if (wait) await sleep(Number(wait[1]), undefined, { signal });
      const response = await super.generate(request, signal);
      if (prompt.includes('FAIL')) throw new ProviderError('mock', 'bad_request', `refused: ${prompt}`);
      return response;
    } finally {
      this.inFlight--;
    }
  }
}

export interface Harness {
  dir: string;
  store: SqliteStore;
  engine: Engine;
  mock: CountingMock;
  /** Writes `yaml` to `name` in the temp dir and returns its path. */
  write(name: string, yaml: string): string;
  run(file: string, inputs?: Record<string, unknown>): Promise<RunResult>;
  cleanup(): Promise<void>;
}

/** An engine on the SQLite journal at `dbFile`, calling a CountingMock of its own. */
export function countingEngine(dbFile: string): { store: SqliteStore; engine: Engine; mock: CountingMock } {
  const store = new SqliteStore(dbFile);
  const mock = new CountingMock();
  const engine = new Engine({
    store,
    // No call cache: every item must reach the provider for the counts to mean anything.
    cache: false,
    gates: new GateRegistry(undefined, { mock: { max_concurrency: 100 } }),
    providerFactories: { mock: () => mock },
  });
  return { store, engine, mock };
}

export function createHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-compose-'));
  const { store, engine, mock } = countingEngine(join(dir, 'journal.db'));
  return {
    dir,
    store,
    engine,
    mock,
    write(name, yaml) {
      const file = join(dir, name);
      writeFileSync(file, yaml);
      return file;
    },
    async run(file, inputs = {}) {
      const handle = await engine.start(await loadPipeline(file), { mock: true, inputs });
      return handle.result;
    },
    async cleanup() {
      await engine.drain();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
