// The stream subscribes before the paged replay: live events the journal does not keep (a step
// taken from the journal on resume: step.stop with fromJournal, no seq) that are emitted while
// the replay goes out reach the client after it.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { EventRecord } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { type Harness, readSse, startHarness, waitForStatus } from './harness.js';

class FailSecondOnce extends MockProvider {
  failed = false;
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const prompt = request.messages.map((m) => m.content).join('\n');
    if (prompt.includes('second')) {
      if (!this.failed) {
        this.failed = true;
        throw new ProviderError('mock', 'bad_request', 'refused once');
      }
      await sleep(500);
    }
    return super.generate(request, signal);
  }
}

let h: Harness | undefined;
let sqlite: SqliteStore | undefined;
afterEach(async () => {
  await h?.close();
  await sqlite?.close();
});

it('a client reading the replay while the run resumes gets the resume\'s "from journal" step.stop', async () => {
  sqlite = new SqliteStore(':memory:');
  const inner = sqlite;
  let hook: (() => Promise<void>) | undefined;
  const store = new Proxy(inner, {
    get(target, key) {
      if (key === 'getEvents')
        return async (runId: string, after?: number, limit?: number): Promise<EventRecord[]> => {
          const answer = await inner.getEvents(runId, after, limit);
          const run = hook;
          hook = undefined;
          await run?.();
          return answer;
        };
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const mock = new FailSecondOnce();
  h = await startHarness({ store, engine: { providerFactories: { mock: () => mock } } });
  const yaml = `name: two
steps:
  - { name: first, type: mock, prompt: "first" }
  - { name: second, type: mock, prompt: "second", retry: { max_attempts: 1 } }
`;
  const submitted = await h.call('/runs', { json: { yaml, mock: true } });
  const { run_id: runId } = (await submitted.json()) as { run_id: string };
  await waitForStatus(h, runId, 'failed');

  // The client opens the stream; as its replay's first page is read, the run is resumed.
  const harness = h;
  hook = async () => {
    const resumed = await harness.call(`/runs/${runId}/resume`, { method: 'POST' });
    expect(resumed.status).toBeLessThan(300);
    await sleep(150); // `first` is announced from the journal; `second` is running (500 ms)
  };
  const events = await readSse(await h.call(`/runs/${runId}/events`));
  await waitForStatus(h, runId, 'succeeded');
  const types = events.map(
    (e) =>
      `${e.event}${(e.data as { data: { step?: string; fromJournal?: boolean } }).data.fromJournal ? ' (journal)' : ''}`,
  );
  // The stream followed the resumed execution to its end...
  expect(events.at(-1)?.event).toBe('pipeline.execution.stop');
  expect(types.filter((t) => t === 'pipeline.execution.start').length).toBe(2);
  // ...but the resume's announcement of `first` (taken from the journal) is missing.
  expect(types).toContain('pipeline.step.stop (journal)');
}, 30_000);
