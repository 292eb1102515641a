// The child process of rejected-bill-kill.test.ts: starts (or resumes) a run on a SQLite journal
// whose provider follows a script (rejected-bill-provider.ts), and prints `run ID` once started.
// Usage: node --import tsx rejected-bill-child.ts start DB PIPELINE CALLS SCRIPT
//        node --import tsx rejected-bill-child.ts resume DB RUN_ID CALLS SCRIPT [MAX_COST_USD]
// (SCRIPT: the turns, comma-separated: invalid,hang …)
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { ENV, scriptedProvider, type Turn } from './rejected-bill-provider.js';

const [mode, db, target, callsFile, script, maxCost] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];

const store = new SqliteStore(db);
const provider = scriptedProvider(script.split(',') as Turn[], callsFile);
const engine = new Engine({ store, env: ENV, providerFactories: { openai: () => provider } as never });
const handle =
  mode === 'start'
    ? await engine.start(await loadPipeline(target))
    : await engine.resume(target, maxCost === undefined ? {} : { maxCostUsd: Number(maxCost) });
process.stdout.write(`run ${handle.runId}\n`);
const result = await handle.result;
process.stdout.write(`status ${result.status}\n`);
await store.close();
