// A process that writes to the journal and is killed (SIGKILL, by itself) before any of it is
// applied to the tables: only its write-ahead log has it. Args: DB_PATH RUN_ID.
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const [db, runId] = process.argv.slice(2) as [string, string];
const store = new SqliteStore(db);
await store.createRun(sampleRun({ id: runId }));
for (const key of ['a', 'b', 'c'])
  await store.commitStep(sampleStep(runId, key), [
    { runId, seq: key.charCodeAt(0), type: 'pipeline.step.stop', at: 1, data: { runId, step: key } },
  ]);
await store.commitItems([
  {
    runId,
    stepKey: 'c',
    index: 0,
    status: 'succeeded',
    output: 'x',
    usage: { inputTokens: 1, outputTokens: 2 },
    costUsd: null,
    attempts: 1,
    durationMs: 1,
  },
]);
process.kill(process.pid, 'SIGKILL');
