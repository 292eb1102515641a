// A pipeline sent inline over HTTP is its token holder's: it must not send the server's keys to an
// address of its choosing, read any variable of the server's environment as a key, or set the
// limits of a gate every run shares. The "attacker" here is a real HTTP server (the OpenAI fake)
// that records what reaches it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { checkInlineProviders } from '../../src/server/inline-providers.js';
import { OpenAIFake } from '../fakes/index.js';
import { type Harness, startHarness, TOKEN, waitForStatus } from './harness.js';

const KEY = 'sk-server-secret-0123456789';
const OTHER_SECRET = 'db-password-9876543210';
const collector = new OpenAIFake();
let collectorUrl = '';

beforeAll(async () => {
  collectorUrl = `${await collector.start()}/v1`;
});
afterAll(() => collector.stop());

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  collector.reset();
});

const env = { ELEXIRION_TOKEN: TOKEN, OPENAI_API_KEY: KEY, DATABASE_PASSWORD: OTHER_SECRET };

/** A one-step pipeline calling provider `collect`, configured by `provider` (YAML flow mapping body). */
const pipelineWith = (provider: string) => `name: exfil
providers:
  collect: { type: openai, ${provider} }
steps:
  - name: ask
    type: llm
    provider: collect
    model: gpt-4o-mini
    prompt: hello
`;

const submit = (h: Harness, yaml: string) => h.call('/runs', { json: { yaml } });

/** Every key the collector was sent, whatever the header. */
const keysSeen = () => collector.requests.map((r) => String(r.headers.authorization ?? ''));

describe('inline pipelines and the server’s providers', () => {
  it('refuses a base_url the operator did not allow, with where it is, and nothing is called', async () => {
    harness = await startHarness({ env });
    const response = await submit(harness, pipelineWith(`base_url: "${collectorUrl}"`));
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; hint: string };
    expect(body.error).toMatch(
      /\(inline\)\.yaml:3:\d+: providers\.collect\.base_url: .*does not let an inline pipeline/,
    );
    expect(body.hint).toContain('--allow-base-url');
    expect(collector.requests).toHaveLength(0);
  });

  it('sends the call there once the operator allows the URL (normalized), but no key unless the operator tied one to it', async () => {
    harness = await startHarness({ env, inlineProviders: { allowBaseUrls: [`${collectorUrl}/`] } });
    const response = await submit(harness, pipelineWith(`base_url: "${collectorUrl}"`));
    expect(response.status).toBe(202);
    const { run_id } = (await response.json()) as { run_id: string };
    await waitForStatus(harness, run_id, 'succeeded');
    expect(collector.requests).toHaveLength(1);
    // The openai type's standard OPENAI_API_KEY is the server's key for api.openai.com, not for here.
    expect(keysSeen().join()).not.toContain(KEY);
  });

  it('sends a key to an allowed URL only when the operator tied the two (--allow-base-url URL=VAR)', async () => {
    const elsewhere = 'http://127.0.0.1:9/v1';
    harness = await startHarness({
      env,
      inlineProviders: { allowBaseUrls: [`${collectorUrl}=DATABASE_PASSWORD`, elsewhere], allowKeyEnv: ['OTHER'] },
    });
    // The vendor's own variable, or one allowed with --allow-key-env, is not enough for a base_url.
    for (const key of ['OPENAI_API_KEY', 'OTHER']) {
      const refused = await submit(harness, pipelineWith(`base_url: "${collectorUrl}", api_key_env: ${key}`));
      expect(refused.status).toBe(403);
      const body = (await refused.json()) as { error: string; hint: string };
      expect(body.error).toContain('providers.collect.api_key_env');
      expect(body.hint).toContain(`--allow-base-url ${collectorUrl}=${key}`);
    }
    // The tied key, to another allowed URL: refused.
    const moved = await submit(harness, pipelineWith(`base_url: "${elsewhere}", api_key_env: DATABASE_PASSWORD`));
    expect(moved.status).toBe(403);
    expect(collector.requests).toHaveLength(0);
    // The tied key, to its URL: sent.
    const response = await submit(harness, pipelineWith(`base_url: "${collectorUrl}", api_key_env: DATABASE_PASSWORD`));
    expect(response.status).toBe(202);
    await waitForStatus(harness, ((await response.json()) as { run_id: string }).run_id, 'succeeded');
    expect(keysSeen()).toEqual([`Bearer ${OTHER_SECRET}`]);
  });

  it('reads a key for the vendor’s own endpoint only from its standard variables or --allow-key-env', () => {
    const at = (key: string) =>
      loadPipelineFromString(
        `name: k\nproviders:\n  openai: { api_key_env: ${key} }\nsteps:\n  - { name: a, type: openai, prompt: hi }\n`,
        '(inline).yaml',
      );
    expect(() => checkInlineProviders(at('DATABASE_PASSWORD'))).toThrow(
      /does not let an inline pipeline read DATABASE_PASSWORD/,
    );
    expect(() => checkInlineProviders(at('OPENAI_API_KEY'))).not.toThrow();
    expect(() => checkInlineProviders(at('DATABASE_PASSWORD'), { allowKeyEnv: ['DATABASE_PASSWORD'] })).not.toThrow();
  });

  it('refuses gate limits on a provider: the gate is every run’s, and the first pipeline to set it would win', async () => {
    harness = await startHarness({ env });
    const response = await submit(
      harness,
      `name: throttle
providers:
  mock: { max_concurrency: 1 }
steps:
  - name: a
    type: mock
    prompt: hi
`,
    );
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toContain('providers.mock.max_concurrency');
    // The server's mock gate was not configured by the refused pipeline.
    expect(harness.service.engine.gates.gate('mock').options.maxConcurrency).not.toBe(1);
  });

  it('refuses another `type` for a built-in provider name: the type sets the default limits of that name’s shared gate', async () => {
    harness = await startHarness({ env });
    // `mock` typed as openai: the mock gate (10,000 slots, every mocked run of the server) would get 10.
    const throttle = await submit(
      harness,
      `name: retype\nproviders:\n  mock: { type: openai }\nsteps:\n  - { name: a, type: mock, prompt: hi }\n`,
    );
    expect(throttle.status).toBe(403);
    expect(((await throttle.json()) as { error: string }).error).toMatch(/:3:\d+: providers\.mock\.type/);
    // `anthropic` typed as the mock: the Anthropic gate would lose its limit (10 → 10,000 in flight).
    const unthrottle = await submit(
      harness,
      `name: retype\nproviders:\n  anthropic: { type: mock }\nsteps:\n  - { name: a, type: mock, prompt: hi }\n`,
    );
    expect(unthrottle.status).toBe(403);
    expect(harness.service.engine.gates.gate('mock').options.maxConcurrency).toBe(10_000);
    expect(harness.service.engine.gates.gate('anthropic').options.maxConcurrency).toBe(10);
    // Its own type, or a type for a name of its own, is still fine.
    const own = await submit(
      harness,
      `name: typed\nproviders:\n  mock: { type: mock }\n  mine: { type: mock }\nsteps:\n  - { name: a, type: mock, prompt: hi }\n`,
    );
    expect(own.status).toBe(202);
  });

  it('refuses a vendor’s own endpoint under a name of the pipeline’s own: it would be a gate of its own on the server’s account', () => {
    const at = (providers: string) =>
      loadPipelineFromString(
        `name: alias\nproviders:\n${providers}\nsteps:\n  - { name: a, type: llm, provider: a0, model: claude-haiku-4-5, prompt: hi }\n`,
        '(inline).yaml',
      );
    // Four names for Anthropic were four gates of ten slots each on the server's key, each with its own breaker.
    expect(() => checkInlineProviders(at('  a0: { type: anthropic }'))).toThrow(
      /:3:\d+: providers\.a0\.type: an inline pipeline reaches anthropic's own endpoint only as `anthropic`/,
    );
    expect(() => checkInlineProviders(at('  a0: { type: openai }'))).toThrow(/providers\.a0\.type/);
    // A name of its own for the mock, or for an endpoint the operator allows, is still fine.
    expect(() => checkInlineProviders(at('  a0: { type: mock }'))).not.toThrow();
    expect(() =>
      checkInlineProviders(at(`  a0: { type: openai, base_url: "${collectorUrl}" }`), {
        allowBaseUrls: [collectorUrl],
      }),
    ).not.toThrow();
  });

  it('checks pipelines written inside the inline pipeline, in parallel groups too', async () => {
    harness = await startHarness({ env });
    const response = await submit(
      harness,
      `name: outer
steps:
  - name: group
    type: parallel
    steps:
      - name: child
        type: pipeline
        pipeline:
          name: inner
          providers:
            collect: { type: openai, base_url: "${collectorUrl}" }
          steps:
            - name: ask
              type: llm
              provider: collect
              model: gpt-4o-mini
              prompt: hello
`,
    );
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /:11:\d+: steps\.0\.steps\.0\.pipeline\.providers\.collect\.base_url/,
    );
    expect(collector.requests).toHaveLength(0);
  });

  it('refuses a claude_code step sent inline (a session runs tools on the server), wherever it is written', async () => {
    harness = await startHarness({ env });
    const step = `{ name: agent, type: claude_code, prompt: "run the tests", allowed_tools: [Bash], permission_mode: bypassPermissions }`;
    const direct = await submit(harness, `name: agentic\nsteps:\n  - ${step}\n`);
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: string }).error).toMatch(
      /\(inline\)\.yaml:3:\d+: steps\.0: .*claude_code/,
    );
    const nested = await submit(
      harness,
      `name: agentic\nsteps:\n  - name: g\n    type: parallel\n    steps:\n      - name: child\n        type: pipeline\n        pipeline:\n          name: inner\n          steps:\n            - ${step}\n`,
    );
    expect(nested.status).toBe(403);
    expect(((await nested.json()) as { error: string }).error).toContain('steps.0.steps.0.pipeline.steps.0');
    // Under --mock nothing would start either, but the pipeline itself is refused: a resume could drop --mock.
    const trusted = await startHarness({ env, inlineProviders: { trust: true } });
    try {
      const ok = await trusted.call('/runs', { json: { yaml: `name: agentic\nsteps:\n  - ${step}\n`, mock: true } });
      expect(ok.status).toBe(202);
    } finally {
      await trusted.close();
    }
  });

  it('lets a trusting server (--trust-inline-providers) take anything, and files under --root are never checked', async () => {
    harness = await startHarness({ env, inlineProviders: { trust: true } });
    const response = await submit(harness, pipelineWith(`base_url: "${collectorUrl}"`));
    expect(response.status).toBe(202);
    await waitForStatus(harness, ((await response.json()) as { run_id: string }).run_id, 'succeeded');
    expect(collector.requests).toHaveLength(1);

    // The same pipeline as a file of the operator's, on the default (strict) policy: no finding.
    const file = loadPipelineFromString(pipelineWith(`base_url: "${collectorUrl}"`), join('/srv', 'op.yaml'));
    expect(() => checkInlineProviders(file, { trust: true })).not.toThrow();
  });

  it('holds a resumed inline run to the policy of the server resuming it', async () => {
    harness = await startHarness({ env, inlineProviders: { trust: true } });
    // A 400 is not retried: the run fails at once, resumable.
    collector.injectFault({ kind: 'status', status: 400, message: 'bad request' });
    const response = await submit(harness, pipelineWith(`base_url: "${collectorUrl}"`));
    const { run_id } = (await response.json()) as { run_id: string };
    await waitForStatus(harness, run_id, 'failed');
    const { store } = harness;
    await harness.service.shutdown(2000);
    const strict = await startHarness({ env, store, root: harness.root });
    harness = strict;
    const before = collector.requests.length;
    const resumed = await strict.call(`/runs/${run_id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(403);
    expect(((await resumed.json()) as { error: string }).error).toContain('providers.collect.base_url');
    expect(collector.requests.length).toBe(before);
    await store.close();
  });
});

describe('elexirion serve: the inline-provider flags', () => {
  it.each([
    [['--allow-base-url', 'not a url'], /--allow-base-url must be a URL or URL=VAR, got "not a url"/],
    [['--allow-base-url', 'not a url=KEY'], /--allow-base-url must be a URL or URL=VAR, got "not a url=KEY"/],
    [['--allow-key-env', 'lower-case'], /--allow-key-env must be an environment variable name/],
  ])('refuses %j with a usage error (exit 2)', (args, message) => {
    const cli = join(import.meta.dirname, '../../bin/elexirion.js');
    const result = spawnSync(process.execPath, [cli, 'serve', '--port', '0', ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
