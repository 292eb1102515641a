// Every start of the CLI paid for the whole program: `--help` and `runs` imported the engine (zod,
// LiquidJS, YAML, cockatiel, ajv — a third of a second) because every command's file imported what
// its action needs, and commander registers every command on every start. A command's file now
// holds its definition and imports its action when it runs (src/cli/commands/index.ts), and the
// libraries only some paths need load on those paths: a vendor SDK on its provider's first call,
// ajv with the first JSON Schema, the OpenTelemetry SDK and exporter when a collector is named,
// prom-client with the first metrics registry.
// Guarded without timing: a child process runs the built CLI (bin/elexirion.js runs dist/: `npm run
// build` first) under a preload (node --import) that records every module it loads — ESM through a
// resolve hook, CommonJS (whether imported or required) from require.cache at exit — and the
// packages are read off their paths.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/elexirion.js');

// Runs in Node's loader thread: appends the URL of every module resolved to the log.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`;

const PRELOAD = (log: string) => `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)}, { data: { log: ${JSON.stringify(log)} } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(cache).join('\\n') + '\\n'));
`;

interface Loaded {
  status: number | null;
  stderr: string;
  /** npm packages loaded, by name. */
  packages: Set<string>;
  /** Modules of this project loaded, as paths under dist/ (e.g. `engine/engine.js`). */
  ours: string[];
}

/** Runs `node --import RECORDER ...args` in the project's directory; what it loaded. */
function recordLoads(args: string[], env: NodeJS.ProcessEnv = {}): Loaded {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-lazy-imports-'));
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const preload = join(dir, 'record.mjs');
  writeFileSync(preload, PRELOAD(log));
  const out = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const packages = new Set<string>();
  const ours = new Set<string>();
  for (const line of lines) {
    const path = line.startsWith('file:') ? decodeURIComponent(new URL(line).pathname) : line;
    // The last node_modules/ of the path names the package (a nested one's own dependency too).
    const inModules = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    if (inModules) packages.add(inModules[1] as string);
    else if (path.startsWith(`${root}/dist/`)) ours.add(path.slice(root.length + '/dist/'.length));
  }
  return { status: out.status, stderr: out.stderr, packages, ours: [...ours] };
}

/** What only some commands or some pipelines need. */
const HEAVY = [
  '@anthropic-ai/sdk',
  '@anthropic-ai/claude-agent-sdk',
  '@google/genai',
  'openai',
  'bullmq',
  'ioredis',
  'pg',
  'hono',
  '@hono/node-server',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/sdk-trace-base',
  'prom-client',
  'pino',
  'ajv',
];
/** What running a pipeline needs, and no command that runs none. */
const ENGINE = ['zod', 'liquidjs', 'yaml', 'cockatiel', 'ajv'];

const loadedOf = (loaded: Loaded, names: string[]) => names.filter((name) => loaded.packages.has(name));

describe('the CLI loads what the command needs, no more', () => {
  it('run examples/hello.yaml --mock (the README’s first command): no SDK, cluster, server, exporter, metrics', () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-lazy-imports-db-')), 'j.db');
    const run = recordLoads([bin, 'run', 'examples/hello.yaml', '--mock', '--db', db]);
    expect(run.status, run.stderr).toBe(0);
    // The recorder sees what the run needs: ESM (zod) and CommonJS (LiquidJS, better-sqlite3).
    expect(loadedOf(run, ['zod', 'liquidjs', 'better-sqlite3'])).toEqual(['zod', 'liquidjs', 'better-sqlite3']);
    expect(loadedOf(run, HEAVY)).toEqual([]);
    // Nor another command's action, the HTTP service or the cluster.
    const others = /^(cli\/actions\/(?!run\.js)|server\/(?!defaults\.js)|cluster\/)/;
    expect(run.ours.filter((path) => others.test(path))).toEqual([]);
  });

  it('--help: commander and the command definitions, not the engine nor the journal', () => {
    const help = recordLoads([bin, '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.packages.has('commander')).toBe(true);
    expect(loadedOf(help, [...ENGINE, ...HEAVY, 'better-sqlite3'])).toEqual([]);
    const implementations = ['engine/engine.js', 'config/loader.js', 'journal/sqlite-store.js', 'cli/run-session.js'];
    expect(help.ours.filter((path) => implementations.includes(path) || path.startsWith('cli/actions/'))).toEqual([]);
  });

  it('runs: the journal, not the engine', () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-lazy-imports-db-')), 'j.db');
    const runs = recordLoads([bin, 'runs', '--db', db]);
    expect(runs.status, runs.stderr).toBe(0);
    expect(loadedOf(runs, [...ENGINE, ...HEAVY])).toEqual([]);
    expect(runs.ours).toContain('journal/sqlite-store.js');
    expect(runs.ours).not.toContain('engine/engine.js');
  });

  it('tracing and metrics: the OpenTelemetry SDK and exporter when a collector is named, prom-client with a registry', () => {
    const modules = ['telemetry/tracing.js', 'telemetry/metrics.js', 'telemetry/event-bus.js'];
    const script = (body: string) => [
      '--input-type=module',
      '-e',
      `${modules.map((m, i) => `const m${i} = await import(${JSON.stringify(join(root, 'dist', m))});`).join('')}${body}`,
    ];
    const imported = recordLoads(script('m0.createTracingFromEnv({});'));
    expect(imported.status, imported.stderr).toBe(0);
    expect(loadedOf(imported, HEAVY)).toEqual([]);
    // Asked for, they load (require() is recorded too).
    const used = recordLoads(
      script(
        "const t = m0.createTracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }); await t.shutdown();" +
          'm1.attachMetrics({ bus: new m2.EventBus(), gates: { summary: () => [] }, activeRuns: 0 }).detach();',
      ),
    );
    expect(used.status, used.stderr).toBe(0);
    expect(loadedOf(used, HEAVY)).toEqual([
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/sdk-trace-base',
      'prom-client',
    ]);
  });
});

describe('the library loads what its user needs', () => {
  it("import 'elexirion': no vendor SDK, cluster, server or PostgreSQL client — pg comes with a PostgreSQL journal", () => {
    const entry = JSON.stringify(join(root, 'dist/index.js'));
    const imported = recordLoads(['--input-type=module', '-e', `await import(${entry});`]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(loadedOf(imported, HEAVY)).toEqual([]);
    // A PostgresStore made (never connected: the pool connects on the first query) loads it.
    const made = recordLoads([
      '--input-type=module',
      '-e',
      `const { PostgresStore } = await import(${entry}); new PostgresStore('postgres://127.0.0.1:1/none');`,
    ]);
    expect(made.status, made.stderr).toBe(0);
    expect(loadedOf(made, ['pg'])).toEqual(['pg']);
  });
});
