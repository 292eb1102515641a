// A process that keeps writing to a journal whose database file is deleted under it. Args: DB_PATH
// RUN_ID. Writes the run and step `a`, prints `a`; on a line of stdin writes step `b` (resolved from
// its log alone: its own database is gone), prints `b`; then waits to be killed.
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const [db, runId] = process.argv.slice(2) as [string, string];
const store = new SqliteStore(db);
await store.createRun(sampleRun({ id: runId }));
await store.commitStep(sampleStep(runId, 'a'));
process.stdout.write('a\n');
createInterface({ input: process.stdin }).once('line', () => {
  void store.commitStep(sampleStep(runId, 'b')).then(() => process.stdout.write('b\n'));
});
setInterval(() => {}, 1000);
