// The engine and the CLI on the PostgreSQL journal: a run succeeds, an interrupted run resumes from
// its journal without re-running finished steps, and `--db postgres://…` selects the store.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { runMain } from '../cli/run-main.js';
import { adminQuery, dropSchema, TEST_POSTGRES_URL, uniqueSchema } from './postgres-harness.js';

const HELLO = resolve(import.meta.dirname, '../../examples/hello.yaml');
const schema = uniqueSchema('elexirion_engine');

afterAll(async () => {
  await dropSchema(schema);
});

describe('the engine on PostgresStore', () => {
  it('runs examples/hello.yaml on the mock provider and journals its steps and events', async () => {
    const store = new PostgresStore(TEST_POSTGRES_URL, { schema });
    const engine = new Engine({ store, env: {} });
    const result = await (await engine.start(await loadPipeline(HELLO), { mock: true })).result;
    expect(result.status).toBe('succeeded');
    expect(result.outputs.greeting).toBe('Hello, world!');
    expect((await store.getSteps(result.run_id)).map((s) => s.key)).toEqual(['setup', 'greet', 'reply']);
    expect((await store.getEvents(result.run_id)).some((e) => e.type === 'pipeline.step.stop')).toBe(true);
    await store.close();
  });

  it('resumes an interrupted run from the journal: finished steps are not run again', async () => {
    const store = new PostgresStore(TEST_POSTGRES_URL, { schema });
    const engine = new Engine({ store, env: {} });
    const handle = await engine.start(await loadPipeline(HELLO), { mock: true, inputs: { name: 'Ada' } });
    engine.bus.on('pipeline.step.start', (data) => {
      if (data.runId === handle.runId && data.step === 'greet') handle.stop('interrupted');
    });
    const first = await handle.result;
    expect(first.status).toBe('interrupted');
    const setupBefore = (await store.getSteps(handle.runId)).find((s) => s.key === 'setup');
    expect(setupBefore?.status).toBe('succeeded');

    // A new engine and a new pool: nothing is carried over but the journal.
    await store.close();
    const again = new PostgresStore(TEST_POSTGRES_URL, { schema });
    const resumed = await (await new Engine({ store: again, env: {} }).resume(handle.runId)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.greeting).toBe('Hello, Ada!');
    const steps = await again.getSteps(handle.runId);
    expect(steps.map((s) => s.key)).toEqual(['setup', 'greet', 'reply']);
    expect(steps.find((s) => s.key === 'setup')).toEqual(setupBefore);
    await again.close();
  });
});

describe('the CLI on PostgreSQL', () => {
  const cliSchema = uniqueSchema('elexirion_cli');
  // libpq's own `options` parameter puts the CLI in a schema of its own.
  const url = `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${cliSchema}`)}`;
  beforeAll(async () => {
    await adminQuery(`CREATE SCHEMA ${cliSchema}`);
  });
  afterAll(async () => {
    await dropSchema(cliSchema);
  });

  it('--db postgres://… and ELEXIRION_DB=postgres://… select the PostgreSQL journal', async () => {
    const run = await runMain(['run', HELLO, '--mock', '--json', '--db', url]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const runId = (JSON.parse(run.stdout) as { run_id: string }).run_id;
    const rows = await adminQuery<{ status: string }>(`SELECT status FROM ${cliSchema}.runs WHERE id = $1`, [runId]);
    expect(rows).toEqual([{ status: 'succeeded' }]);
    const listed = await runMain(['runs', '--json'], { env: { NO_COLOR: '1', ELEXIRION_DB: url } });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(runId);
  });

  it('an unreachable database: exit 69, a hint, no stack trace, no password', async () => {
    const result = await runMain([
      'run',
      HELLO,
      '--mock',
      '--db',
      'postgres://postgres:hunter2-secret@127.0.0.1:1/test',
    ]);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('cannot use the PostgreSQL journal at postgres://postgres:***@127.0.0.1:1/test');
    expect(result.stderr).toContain('hint: is PostgreSQL running at 127.0.0.1:1? check --db / ELEXIRION_DB');
    expect(result.stderr).not.toContain('hunter2-secret');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
