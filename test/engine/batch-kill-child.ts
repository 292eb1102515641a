// The child process of batch-kill.test.ts: runs (or resumes) a pipeline on a SQLite journal with a
// mock provider that appends each call's prompt to a file — written before the answer, with a
// synchronous append, so that a SIGKILL cannot lose a call that was made.
// Usage: node --import tsx batch-kill-child.ts start DB PIPELINE CALLS | resume DB RUN_ID CALLS
import { appendFileSync } from 'node:fs';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';

const [mode, db, target, callsFile] = process.argv.slice(2) as [string, string, string, string];

class LoggingMock extends MockProvider {
  override generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    appendFileSync(callsFile, `${request.messages.map((m) => m.content).join(' ')}\n`);
    return super.generate(request, signal);
  }
}

const store = new SqliteStore(db);
const engine = new Engine({ store, cache: false, providerFactories: { mock: () => new LoggingMock() } });
const handle =
  mode === 'start' ? await engine.start(await loadPipeline(target), { mock: true }) : await engine.resume(target);
process.stdout.write(`run ${handle.runId}\n`);
const result = await handle.result;
process.stdout.write(`status ${result.status}\n`);
await store.close();
