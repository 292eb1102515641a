// A process that writes many steps to the journal, in bursts, while another process opens the same
// journal again and again (each open applies this process's log too). Args: DB_PATH RUN_ID STEPS.
// Exits 0 once everything is applied and its log removed; a failed apply makes close() throw.
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const [db, runId, steps] = process.argv.slice(2) as [string, string, string];
const store = new SqliteStore(db);
await store.createRun(sampleRun({ id: runId }));
for (let i = 0; i < Number(steps); i++) {
  const seq = 2 * i + 1;
  const events = [seq, seq + 1].map((s) => ({ runId, seq: s, type: 'pipeline.step.stop', at: s, data: { runId, i } }));
  await store.commitStep(sampleStep(runId, `s${i}`), events);
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1)); // bursts: the reader gets its turns
}
await store.close();
