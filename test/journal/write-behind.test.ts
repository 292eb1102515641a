// The SQLite journal's write-behind (src/journal/write-behind.ts): a write is durable once logged,
// reaches the tables behind, is applied exactly once whoever applies it, and a killed process's
// writes are applied by the next process to open the journal.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import { AppendLog, readLog } from '../../src/journal/append-log.js';
import { HOST_ID } from '../../src/journal/journal-logs.js';
import { stepParams } from '../../src/journal/rows.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/journal/sqlite-store.js';
import { fromLogLine, type JournalWrite, logLine } from '../../src/journal/sqlite-writes.js';
import type { EventRecord, RunRecord } from '../../src/journal/store.js';
import { count } from './raw-count.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'elexirion-behind-')), 'journal.db');

/** A fresh journal holding one run (`run`), as most cases start. */
async function journalWithRun(options: SqliteStoreOptions = {}, overrides: Partial<RunRecord> = {}) {
  const path = tempDb();
  const store = new SqliteStore(path, options);
  const run = sampleRun(overrides);
  await store.createRun(run);
  return { path, store, run };
}

const stop = (runId: string, seq: number): EventRecord => ({
  runId,
  seq,
  type: 'pipeline.step.stop',
  at: seq,
  data: { runId, seq },
});

describe('write-behind journal', () => {
  it('a write resolves before it reaches the tables; a read of the same journal applies it first', async () => {
    const { path, store, run } = await journalWithRun();
    await store.commitStep(sampleStep(run.id, 'a'));
    expect(count(path, 'steps')).toBe(0); // logged, not yet applied
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    expect(count(path, 'steps')).toBe(1);
    await store.close();
  });

  it('a crowded turn: the first writes are logged at once, the later ones together at its end, resolving then', async () => {
    const { path, store, run } = await journalWithRun();
    await new Promise((r) => setImmediate(r)); // a fresh turn
    const lines = () =>
      readFileSync(join(`${path}-log`, readdirSync(`${path}-log`)[0] as string), 'utf8').split('\n').length - 1;
    const before = lines();
    let resolved = 0;
    const commits = Array.from({ length: 40 }, (_, i) =>
      store.commitStep(sampleStep(run.id, `s${i}`)).then(() => resolved++),
    );
    for (let i = 0; i < 10; i++) await Promise.resolve(); // microtasks only: still the same turn
    const logged = lines() - before;
    expect(logged).toBeGreaterThan(0); // a sequential run never waits for the turn to end
    expect(logged).toBeLessThan(40);
    expect(resolved).toBe(logged); // a write resolves only once it is in the log
    await Promise.all(commits);
    expect(lines() - before).toBe(40);
    expect(await store.getSteps(run.id)).toHaveLength(40);
    await store.close();
  });

  it('reaches the tables on its own within the apply period', async () => {
    const path = tempDb();
    const store = new SqliteStore(path);
    await store.createRun(sampleRun());
    expect(count(path, 'runs')).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(count(path, 'runs')).toBe(1);
    await store.close();
  });

  it('another journal opened meanwhile applies the log; the owner then applies nothing twice', async () => {
    const path = tempDb();
    const owner = new SqliteStore(path);
    const run = sampleRun();
    await owner.createRun(run);
    await owner.commitStep(sampleStep(run.id, 'a'), [stop(run.id, 1), stop(run.id, 2)]);
    await owner.commitItems([
      {
        runId: run.id,
        stepKey: 'a',
        index: 0,
        status: 'succeeded',
        output: 1,
        usage: { inputTokens: 1, outputTokens: 2 },
        costUsd: null,
        attempts: 1,
        durationMs: 1,
      },
    ]);
    const other = new SqliteStore(path); // applies the owner's log as it opens
    expect(count(path, 'steps')).toBe(1);
    await owner.commitStep(sampleStep(run.id, 'b'), [stop(run.id, 3)]);
    await owner.appendEvents([stop(run.id, 4)]);
    await owner.close(); // applies b and event 4 — and not a, its item or events 1–2 again
    expect((await other.getEvents(run.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(count(path, 'event_batches')).toBe(1); // a second copy of step a would have moved its events here
    expect((await other.getSteps(run.id)).map((s) => s.key)).toEqual(['a', 'b']);
    expect(await other.countItems(run.id, 'a')).toEqual({ succeeded: 1, failed: 0, stopped: 0 });
    expect(readdirSync(`${path}-log`)).toEqual([]); // the owner removed its log as it closed
    await other.close();
    expect(count(path, 'journal_logs')).toBe(0); // and the names they had registered ahead
  });

  it("a killed process's writes are applied by the next process to open the journal, and its log removed", () => {
    const path = tempDb();
    const runId = 'killed-run';
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'write-behind-child.ts'), path, runId],
      { encoding: 'utf8' },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(count(path, 'runs')).toBe(0); // nothing reached the tables before the kill
    expect(readdirSync(`${path}-log`)).toHaveLength(1);

    const store = new SqliteStore(path);
    return (async () => {
      expect((await store.getRun(runId))?.status).toBe('running');
      // Exactly what was written: JSON columns travel embedded in the log line, not as strings.
      expect(await store.getSteps(runId)).toEqual(['a', 'b', 'c'].map((key) => sampleStep(runId, key)));
      expect((await store.getEvents(runId)).map((e) => e.data.step)).toEqual(['a', 'b', 'c']);
      expect(await store.countItems(runId, 'c')).toEqual({ succeeded: 1, failed: 0, stopped: 0 });
      expect(readdirSync(`${path}-log`)).toEqual([]); // its process is gone: nobody will write to it
      await store.close();
      expect(count(path, 'journal_logs')).toBe(0);
    })();
  }, 30_000);

  it('a writer and another process applying its log at the same time: every write lands exactly once', async () => {
    const path = tempDb();
    await new SqliteStore(path).close(); // the schema, before either starts
    const runId = 'raced';
    const STEPS = 1500;
    const writer = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'write-behind-writer.ts'), path, runId, String(STEPS)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    writer.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => writer.on('exit', (code) => done(code)));
    let finished = false;
    void exited.then(() => {
      finished = true;
    });
    let opens = 0;
    while (!finished) {
      const reader = new SqliteStore(path); // applies what the writer has logged so far
      await reader.close();
      opens++;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await exited, stderr).toBe(0);
    expect(opens).toBeGreaterThan(5);

    const store = new SqliteStore(path);
    const steps = await store.getSteps(runId);
    expect(steps).toHaveLength(STEPS);
    const events = await store.getEvents(runId, 0, 100_000);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 2 * STEPS }, (_, i) => i + 1));
    // A step row applied twice would have handed its first copy's events to event_batches.
    expect(count(path, 'event_batches')).toBe(0);
    expect(readdirSync(`${path}-log`)).toEqual([]);
    await store.close();
  }, 60_000);

  it('a torn last line (a crash in the middle of a write) is left out; the complete ones are applied', async () => {
    const path = tempDb();
    await new SqliteStore(path).close(); // the schema
    mkdirSync(`${path}-log`);
    const run = sampleRun();
    const log = join(`${path}-log`, '4194305-dead.jsonl'); // above any pid: no such process
    writeFileSync(
      log,
      `${JSON.stringify(['run', runRow(run)])}\n${JSON.stringify(['update', { id: run.id, status: 'failed' }, ['status']])}\n`,
    );
    appendFileSync(log, '["update",{"id":"'); // torn
    const store = new SqliteStore(path);
    expect((await store.getRun(run.id))?.status).toBe('failed');
    expect(readdirSync(`${path}-log`)).toEqual([]);
    await store.close();
  });

  it('a write the tables refuse is reported by the next read; its neighbours are applied', async () => {
    const { store, run } = await journalWithRun();
    await store.commitStep(sampleStep('no-such-run', 'x')); // the foreign key refuses it
    await store.commitStep(sampleStep(run.id, 'a'));
    await expect(store.getSteps(run.id)).rejects.toThrow(/FOREIGN KEY/);
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await store.close();
  });

  it('a log line gives back exactly the write it was made from', () => {
    const text = JSON.stringify({ quote: '"', newline: '\n', unicode: 'é ✓ \u2028', lone: '\ud800', n: -0.1e-7 });
    const writes: JournalWrite[] = [
      ['step', ['r', 'k', 'k', 'mock', 'succeeded', text, null, 'null', 0.5, 1, 1, 2, 3, null, '[[1,"t",2,{}]]', 1, 1]],
      ['step', ['r', 'k', 'k', 'mock', 'failed', null, 'boom "x"', '{}', null, 1, 1, 2, 3, '"s"', null, null, null]],
      [
        'items',
        [
          ['r', 's', 0, 'succeeded', JSON.stringify('out\\put "q"'), null, '{"inputTokens":1}', null, 1, 2],
          ['r', 's', 1, 'failed', null, 'e', '{}', 0.1, 1, 2],
        ],
      ],
      [
        'events',
        [
          ['r', 1, 2, '[[1,"a",5,{"x":"\\"q\\""},1],[2,"b",6,{}]]'],
          ['s', 3, 3, '[[3,"c",7,{}]]'],
        ],
      ],
      ['update', { id: 'r', status: 'failed' }, ['status']],
    ];
    for (const write of writes) {
      const line = logLine(write);
      expect(line).not.toContain('\n');
      expect(fromLogLine(JSON.parse(line))).toEqual(write);
    }
  });

  it('a write that fills the buffer resolves though applying its neighbours failed; the next read says why', async () => {
    const { path, store, run } = await journalWithRun();
    await store.commitStep(sampleStep('no-such-run', 'x'));
    // 300 rows: applying starts inside one of these writes (every 256 rows) and meets the bad one.
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.commitStep(sampleStep(run.id, `s${i}`))));
    expect(count(path, 'steps')).toBeGreaterThan(0); // applied meanwhile, the bad row passed over
    await expect(store.getSteps(run.id)).rejects.toThrow(/FOREIGN KEY/);
    expect(await store.getSteps(run.id)).toHaveLength(300);
    await store.close();
  });

  it('a database locked by another connection holds no write: they wait, logged, and are applied once it is free', async () => {
    const { path, store, run } = await journalWithRun();
    await store.getRun(run.id);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE'); // another process's long write transaction
    const started = performance.now();
    await Promise.all(Array.from({ length: 600 }, (_, i) => store.commitStep(sampleStep(run.id, `s${i}`))));
    // Applying is due twice over; waiting out the busy timeout (5 s) even once would show here.
    expect(performance.now() - started).toBeLessThan(2500);
    holder.exec('COMMIT');
    holder.close();
    expect(await store.getSteps(run.id)).toHaveLength(600);
    await store.close();
  });

  it("a process's first write does not wait on a locked database either (its log was registered at open)", async () => {
    const path = tempDb();
    const store = new SqliteStore(path);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const run = sampleRun();
    await store.createRun(run);
    expect(performance.now() - started).toBeLessThan(2500); // not the 5 s busy timeout
    holder.exec('COMMIT');
    holder.close();
    expect((await store.getRun(run.id))?.id).toBe(run.id);
    await store.close();
  });

  it('says what to do when the log cannot be created, and the write fails rather than resolving', async () => {
    const path = tempDb();
    writeFileSync(`${path}-log`, 'not a directory');
    const store = new SqliteStore(path);
    const failure = await store.createRun(sampleRun()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ElexirionError);
    expect((failure as ElexirionError).message).toMatch(/cannot create the journal's write-ahead log in .*-log/);
    expect((failure as ElexirionError).exitCode).toBe(ExitCode.unavailable);
    expect((failure as ElexirionError).hint).toMatch(/writable/);
    await store.close();
    expect(count(path, 'journal_logs')).toBe(0);
  });

  it('a log that gives way to a new one in the middle of a crowded turn loses nothing, live or after a crash', async () => {
    const { path, store, run } = await journalWithRun({ logRotateBytes: 20_000 }); // ~20 step lines
    await new Promise((r) => setImmediate(r));
    // One crowded turn: 16 logged at once, the rest at its end, applied 256 rows at a time.
    await Promise.all(Array.from({ length: 600 }, (_, i) => store.commitStep(sampleStep(run.id, `s${i}`))));
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.commitStep(sampleStep(run.id, `t${i}`))));
    // A process that opens the journal now (as after a crash of this one) finds every write.
    const other = new SqliteStore(path);
    expect(await other.getSteps(run.id)).toHaveLength(650);
    await other.close();
    expect(await store.getSteps(run.id)).toHaveLength(650);
    await store.close();
    const reopened = new SqliteStore(path);
    expect(await reopened.getSteps(run.id)).toHaveLength(650);
    expect(readdirSync(`${path}-log`)).toEqual([]);
    await reopened.close();
  });

  it("a dead process's write the tables refuse is passed over with a warning; the journal still opens", async () => {
    const path = tempDb();
    await new SqliteStore(path).close();
    mkdirSync(`${path}-log`);
    const run = sampleRun();
    const bad = sampleStep('no-such-run', 'x');
    const good = sampleStep(run.id, 'a');
    writeFileSync(
      join(`${path}-log`, '4194305-dead.jsonl'),
      [
        JSON.stringify(['run', runRow(run)]),
        logLine(['step', stepRow(bad)]),
        // Damaged but still JSON: a column the runs table does not have.
        logLine(['update', { id: run.id, stauts: 'failed' }, ['stauts']]),
        logLine(['step', stepRow(good)]),
        '',
      ].join('\n'),
    );
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 2; i++) {
        const store = new SqliteStore(path); // opens, each time
        expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
        await store.close();
      }
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => /could not be applied and was passed over: FOREIGN KEY/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /passed over: bad run columns \["stauts"\]/.test(w))).toHaveLength(1);
    expect(readdirSync(`${path}-log`)).toEqual([]);
  });

  it("a claim sees a dead process's last writes, even when this journal was opened before them", async () => {
    const { path, store, run } = await journalWithRun({}, { status: 'running' });
    await store.getRun(run.id); // applied; the next periodic recovery is a second away
    writeFileSync(
      join(`${path}-log`, '4194305-dead.jsonl'),
      `${JSON.stringify(['update', { id: run.id, status: 'succeeded' }, ['status']])}\n`,
    );
    const claimed = await store.claimRun(
      run.id,
      { status: 'running', metadata: run.metadata },
      { status: 'running', metadata: { ...run.metadata, resumed: true } },
    );
    expect(claimed).toBe(false); // the run had finished: its owner's last write says so
    expect((await store.getRun(run.id))?.status).toBe('succeeded');
    await store.close();
  });

  it('a log of this pid that is not open here is applied but kept (another thread of this process may own it)', async () => {
    const path = tempDb();
    await new SqliteStore(path).close();
    mkdirSync(`${path}-log`);
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, 0, ?, ?, 0)')
      .run('thread.jsonl', process.pid, HOST_ID);
    raw.close();
    const run = sampleRun();
    writeFileSync(join(`${path}-log`, 'thread.jsonl'), `${JSON.stringify(['run', runRow(run)])}\n`);
    const store = new SqliteStore(path);
    expect((await store.getRun(run.id))?.id).toBe(run.id);
    expect(readdirSync(`${path}-log`)).toEqual(['thread.jsonl']);
    await store.close();
    const again = new SqliteStore(path); // applied once: nothing twice
    expect(await again.listRuns()).toHaveLength(1);
    await again.close();
  });

  it('an append that fails ends its log: the log takes nothing more, and the next write starts another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-append-'));
    const log = new AppendLog(join(dir, 'a.jsonl'));
    log.append('{"n":1}');
    const failing = (fd: number, at: number): number => {
      writeSync(fd, '{"n":2', at); // a short write, then the disk is full
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    expect(() => (log as unknown as { write(f: typeof failing): void }).write(failing)).toThrow(/ENOSPC/);
    expect(() => log.append('{"n":3}')).toThrow(/ENOSPC/); // no offset is used twice
    expect(readLog(join(dir, 'a.jsonl'), 0)).toEqual({ records: [{ record: { n: 1 }, end: 8 }], damaged: false });
    log.close();

    const { path, store, run } = await journalWithRun();
    const behind = (store as unknown as { behind: { log: AppendLog } }).behind;
    const first = behind.log;
    first.append = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    await expect(store.commitStep(sampleStep(run.id, 'lost'))).rejects.toThrow(/ENOSPC/);
    await store.commitStep(sampleStep(run.id, 'a'));
    expect(behind.log).not.toBe(first);
    // The first log's waiting write was applied as it ended, so it was removed: only the new one.
    expect(readdirSync(`${path}-log`).map((name) => join(`${path}-log`, name))).toEqual([behind.log.path]);
    const other = new SqliteStore(path); // as after a crash of the writer: both logs applied
    expect((await other.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await other.close();
    await store.close();
    expect(readdirSync(`${path}-log`)).toEqual([]);
  });

  it('an in-memory journal keeps no log', async () => {
    const store = new SqliteStore(':memory:');
    const run = sampleRun();
    await store.createRun(run);
    await store.commitStep(sampleStep(run.id, 'a'));
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await store.close();
  });
});

/** A run row as the journal's 'run' write carries it (columns by name). */
function runRow(run: ReturnType<typeof sampleRun>): Record<string, unknown> {
  return {
    id: run.id,
    pipeline_name: run.pipelineName,
    pipeline_file: run.pipelineFile,
    pipeline_hash: run.pipelineHash,
    pipeline: JSON.stringify(run.pipeline),
    inputs: JSON.stringify(run.inputs),
    status: run.status,
    error: null,
    failed_step: null,
    outputs: null,
    started_at: run.startedAt,
    finished_at: null,
    totals: JSON.stringify(run.totals),
    metadata: JSON.stringify(run.metadata),
  };
}

/** A step row as the journal's 'step' write carries it (no events). */
function stepRow(step: ReturnType<typeof sampleStep>): unknown[] {
  return [...stepParams(step), null, null, null];
}
