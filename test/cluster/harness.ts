// Real cluster processes for tests: worker processes (`node bin/elexirion.js worker`, so run
// `npm run build` first) on the machine's Redis and PostgreSQL. Each test gets a queue prefix and a
// database of its own, so tests never see each other's jobs or runs; `cleanup()` removes both.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

export const BIN = fileURLToPath(new URL('../../bin/elexirion.js', import.meta.url));
export const REDIS_URL = process.env.ELEXIRION_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN = process.env.ELEXIRION_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;

export interface ClusterHarness {
  dir: string;
  prefix: string;
  db: string;
  callLog: string;
  env: NodeJS.ProcessEnv;
  workers: WorkerProcess[];
  startWorker(extraEnv?: NodeJS.ProcessEnv, args?: string[]): Promise<WorkerProcess>;
  write(name: string, text: string): string;
  cleanup(): Promise<void>;
}

export interface WorkerProcess {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function clusterHarness(): Promise<ClusterHarness> {
  const id = `${process.pid}_${Date.now().toString(36)}_${++counter}`;
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-cluster-'));
  const database = `elexirion_cluster_${id}`;
  await admin(`CREATE DATABASE ${database}`);
  const db = POSTGRES_ADMIN.replace(/\/[^/]*$/, `/${database}`);
  const prefix = `elxtest-${id}`;
  const callLog = join(dir, 'calls.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    ELEXIRION_REDIS: REDIS_URL,
    ELEXIRION_DB: db,
    ELEXIRION_CLUSTER_PREFIX: prefix,
    // Short clocks: a killed worker's jobs are found stalled within about two seconds.
    ELEXIRION_CLUSTER_LOCK_MS: '1000',
    ELEXIRION_HEARTBEAT_MS: '300',
    ELEXIRION_GATE_LEASE_MS: '3000',
    ELEXIRION_MOCK_CALL_LOG: callLog,
  };
  const workers: WorkerProcess[] = [];
  const harness: ClusterHarness = {
    dir,
    prefix,
    db,
    callLog,
    env,
    workers,
    async startWorker(extraEnv = {}, args = ['--concurrency', '2']) {
      const child = spawn(process.execPath, [BIN, 'worker', ...args], {
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      const exited = new Promise<number | null>((done) =>
        child.on('exit', (code, signal) => done(signal ? 128 : code)),
      );
      const worker = { child, stderr: () => err, exited };
      workers.push(worker);
      for (let i = 0; i < 200 && !err.includes(' ready ('); i++) {
        if (child.exitCode !== null) throw new Error(`worker exited: ${err}`);
        await sleep(50);
      }
      if (!err.includes(' ready (')) throw new Error(`worker not ready: ${err}`);
      return worker;
    },
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    async cleanup() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      const redis = new Redis(REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
  return harness;
}

/** A batch of `n` mock items, each `latency` long, after one mock step; `providers` as YAML lines. */
export function batchPipeline(n: number, options: { latency?: string; maxParallel?: number; step?: string } = {}) {
  const items = JSON.stringify(Array.from({ length: n }, (_, i) => i));
  return [
    'name: cluster-batch',
    'steps:',
    '  - name: prep',
    '    type: mock',
    '    prompt: "prep"',
    '  - name: fan',
    '    type: batch',
    `    items: ${items}`,
    `    max_parallel: ${options.maxParallel ?? 5}`,
    '    step_template:',
    ...(
      options.step ?? `      type: mock\n      prompt: "item {{ index }}"\n      latency: ${options.latency ?? '50ms'}`
    ).split('\n'),
    'outputs:',
    '  count: "{{ steps.fan.output | size }}"',
    '',
  ].join('\n');
}

/** Answered calls per batch item index, from the mock's call log (prompts "item N"). */
export function callsPerItem(text: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    const match = /^item (\d+)$/.exec(JSON.parse(line).prompt as string);
    if (match) counts.set(Number(match[1]), (counts.get(Number(match[1])) ?? 0) + 1);
  }
  return counts;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a child process without blocking this one (the workers' pipes keep flowing). */
export function runCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<CliRun>((resolveRun) => child.on('close', (code) => resolveRun({ code, stdout, stderr })));
  return { child, done };
}

export interface ServeProcess {
  url: string;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/** `elexirion serve --cluster` on a free port, serving `harness.dir`; resolves once it listens. */
export async function startServe(harness: ClusterHarness): Promise<ServeProcess> {
  const { child, done } = runCli(['serve', '--cluster', '--port', '0', '--root', harness.dir], harness.env);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await done;
  };
  for (let i = 0; i < 200; i++) {
    const url = /listening on (http:\S+)/.exec(out)?.[1];
    if (url) return { url, stop };
    if (child.exitCode !== null) throw new Error(`serve exited: ${(await done).stderr}`);
    await sleep(50);
  }
  await stop();
  throw new Error('serve --cluster did not start');
}
