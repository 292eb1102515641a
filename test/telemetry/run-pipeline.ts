// Runs a pipeline text through a fresh engine over an in-memory journal, with the given env.
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';

export function newEngine(env: Record<string, string> = {}, store: Store = new SqliteStore(':memory:')): Engine {
  return new Engine({ store, env, cache: false });
}

export async function runYaml(
  engine: Engine,
  yaml: string,
  options: { mock?: boolean; inputs?: Record<string, unknown> } = {},
): Promise<RunResult> {
  const handle = await engine.start(loadPipelineFromString(yaml, '/tmp/telemetry-test.yaml'), options);
  return handle.result;
}

export const MOCK_PIPELINE = `name: two-mocks
steps:
  - name: first
    type: mock
    prompt: "Say one thing"
    response: "one thing"
  - name: second
    type: mock
    prompt: "Say another after {{ steps.first.output }}"
    response: "another thing"
`;

export const CLAUDE_PIPELINE = `name: claude-call
steps:
  - name: warmup
    type: mock
    prompt: "warm up"
  - name: ask
    type: claude
    model: claude-haiku-4-5
    prompt: "Say hello"
    retry: { max_attempts: 1 }
`;
