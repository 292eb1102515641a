import { describe, expect, it } from 'vitest';
import { RestartIntensityExceeded, RunSupervisor } from '../../src/engine/supervisor.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { StepRecord, Store } from '../../src/journal/store.js';
import { answer, StubProvider } from '../resilience/stub-provider.js';
import { newEngine, runYaml, step, tempDir } from './harness.js';

describe('RunSupervisor', () => {
  it('restarts a crashed child and returns its eventual outcome', async () => {
    const supervisor = new RunSupervisor({ maxRestarts: 3, windowMs: 10_000, backoffMs: 1 });
    const attempts: number[] = [];
    const result = await supervisor.supervise({
      id: 'child',
      start: async (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw new Error(`crash ${attempt}`);
        return 'done';
      },
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('gives up past the restart intensity, with the last reason', async () => {
    const supervisor = new RunSupervisor({ maxRestarts: 2, windowMs: 10_000, backoffMs: 1 });
    let starts = 0;
    const outcome = supervisor.supervise({
      id: 'doomed',
      start: async () => {
        starts++;
        throw new Error('disk on fire');
      },
    });
    await expect(outcome).rejects.toBeInstanceOf(RestartIntensityExceeded);
    await expect(outcome).rejects.toThrow(/crashed 3 times .*disk on fire/);
    expect(starts).toBe(3);
  });

  it('restarts outside the window do not count towards the intensity', async () => {
    const supervisor = new RunSupervisor({ maxRestarts: 1, windowMs: 20, backoffMs: 30 });
    let starts = 0;
    const result = await supervisor.supervise({
      id: 'slow-crasher',
      start: async () => {
        starts++;
        if (starts < 4) throw new Error('again');
        return starts;
      },
    });
    expect(result).toBe(4);
  });

  it('does not restart an error the child declares final', async () => {
    const supervisor = new RunSupervisor({ backoffMs: 1 });
    let starts = 0;
    await expect(
      supervisor.supervise({
        id: 'final',
        start: async () => {
          starts++;
          throw new Error('final');
        },
        restartable: () => false,
      }),
    ).rejects.toThrow('final');
    expect(starts).toBe(1);
  });

  it('a child ending under an id a later child took forgets only itself; drain waits for both', async () => {
    const supervisor = new RunSupervisor({ backoffMs: 1 });
    const release: Record<string, () => void> = {};
    const child = (name: string) =>
      supervisor.supervise({
        id: 'run',
        start: () =>
          new Promise<string>((resolve) => {
            release[name] = () => resolve(name);
          }),
      });
    const first = child('first');
    const second = child('second'); // the same id, while the first is still ending
    let drained = false;
    const draining = supervisor.drain().then(() => {
      drained = true;
    });
    release.first?.();
    expect(await first).toBe('first');
    // The first one's cleanup used to delete the id's entry: the second's.
    expect(supervisor.isActive('run')).toBe(true);
    expect(supervisor.activeCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(drained).toBe(false);
    release.second?.();
    expect(await second).toBe('second');
    await draining;
    expect(supervisor.isActive('run')).toBe(false);
    expect(supervisor.activeCount).toBe(0);
  });
});

/** A store whose first `failures` step commits throw: a journal that hiccups. */
function flakyStore(inner: Store, failures: number): Store {
  let left = failures;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'commitStep') {
        return async (step: StepRecord, events?: unknown[]) => {
          if (left-- > 0) throw new Error('SQLITE_IOERR: simulated');
          return target.commitStep(step, events as never);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('engine under supervision', () => {
  it('a crash of the journal restarts the run from durable state, and it completes', async () => {
    const store = flakyStore(new SqliteStore(`${tempDir()}/j.db`), 1);
    const engine = newEngine({ store, restartIntensity: { backoffMs: 1 } });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const result = await runYaml(
      engine,
      `name: crashy\nsteps:\n  - name: a\n    type: mock\n    prompt: one\n  - name: b\n    type: mock\n    prompt: two\n`,
    );
    process.off('warning', onWarning);
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.name)).toEqual(['a', 'b']);
    expect(warnings.some((w) => /crashed .*restarting from the journal/.test(w))).toBe(true);
  });

  it("keeps what a crashed attempt paid: its step's answer comes from the cache, counted as paid, not saved", async () => {
    // Step a's call is paid ($0.01), its commit fails: the run restarts, and a's call is answered
    // from the cache. The vendor was paid twice in all (a, b): the run's totals must say so.
    const store = flakyStore(new SqliteStore(`${tempDir()}/j.db`), 1);
    let paid = 0;
    const provider = new StubProvider(async () => {
      paid++;
      return { ...answer(`answer ${paid}`), costUsd: 0.01 };
    }, 'openai');
    const engine = newEngine({
      store,
      env: { OPENAI_API_KEY: 'sk-test-000000000000' },
      restartIntensity: { backoffMs: 1 },
      providerFactories: { openai: () => provider } as never,
    });
    const onWarning = () => {};
    process.on('warning', onWarning);
    const result = await runYaml(
      engine,
      'name: crashy\nsteps:\n  - { name: a, type: openai, model: gpt-4o, prompt: one }\n  - { name: b, type: openai, model: gpt-4o, prompt: two }\n',
    );
    process.off('warning', onWarning);
    expect(result.status).toBe('succeeded');
    expect(paid).toBe(2);
    expect(result.totals).toMatchObject({ cost_usd: 0.02, calls: 2, cache_hits: 0, cost_saved_usd: 0 });
    expect(result.steps.find((s) => s.name === 'a')).toMatchObject({ cost_usd: 0.01 });
  });

  it('a journal failure inside a parallel group is a crash to restart, not a step failure to absorb', async () => {
    const store = flakyStore(new SqliteStore(`${tempDir()}/j.db`), 1);
    const engine = newEngine({ store, restartIntensity: { backoffMs: 1 } });
    const onWarning = () => {};
    process.on('warning', onWarning);
    const result = await runYaml(
      engine,
      `name: group\nsteps:\n  - name: both\n    type: parallel\n    on_error: continue\n    steps:\n      - { name: a, type: mock, prompt: one }\n      - { name: b, type: mock, prompt: two }\n`,
    );
    process.off('warning', onWarning);
    expect(result.status).toBe('succeeded');
    expect(step(result, 'both').status).toBe('succeeded');
    expect(step(result, 'a').status).toBe('succeeded');
  });

  it('a journal that keeps failing fails the run with its reason after the restart intensity', async () => {
    const store = flakyStore(new SqliteStore(`${tempDir()}/j.db`), 1000);
    const engine = newEngine({ store, restartIntensity: { maxRestarts: 2, backoffMs: 1 } });
    const result = await runYaml(engine, `name: doomed\nsteps:\n  - name: a\n    type: mock\n    prompt: one\n`);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/crashed 3 times .*SQLITE_IOERR/);
  });

  it('one_for_one: a step that throws in one of 50 concurrent runs leaves the other 49 completed', async () => {
    const engine = newEngine();
    const good = `name: good\nsteps:\n  - name: a\n    type: mock\n    prompt: "{{ n }}"\n    latency: 20ms\n  - name: b\n    type: mock\n    prompt: "b {{ steps.a.output }}"\ninputs:\n  n: { type: integer }\n`;
    const bad = `name: bad\nsteps:\n  - name: a\n    type: mock\n    prompt: boom\n    latency: 10ms\n    fail_first: 99\n    retry: { max_attempts: 1 }\n  - name: b\n    type: mock\n    prompt: never\n`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i === 17 ? runYaml(engine, bad) : runYaml(engine, good, { inputs: { n: i } }),
      ),
    );
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.pipeline).toBe('bad');
    const succeeded = results.filter((r) => r.status === 'succeeded');
    expect(succeeded).toHaveLength(49);
    for (const r of succeeded) expect(step(r, 'b').status).toBe('succeeded');
    expect(engine.activeRuns).toBe(0);
  });
});
