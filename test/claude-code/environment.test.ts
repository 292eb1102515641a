// What a Claude Code session's process sees of Elexirion's environment: the agent runs a shell with
// it, so not the other vendors' keys, database URLs or cloud credentials — only the basics, Claude
// Code's own variables, and what the step passes (`pass_env:`, `env:`).
import { describe, expect, it, vi } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { sessionEnvironment } from '../../src/providers/claude-code/environment.js';
import { FAKE_CLAUDE, fingerprint, Workspace } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

/** Secrets of the parent that are none of the session's business. */
const SECRETS = {
  OPENAI_API_KEY: 'sk-openai-test-0123456789abcdef',
  GEMINI_API_KEY: 'AIzaTestGeminiKey0123456789abcdef',
  DATABASE_URL: 'postgres://app:db-pass-0123456789@db.internal:5432/app',
  AWS_ACCESS_KEY_ID: 'AKIATESTACCESSKEY012',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-test-0123456789abcdef',
  STRIPE_SECRET: 'stripe-secret-test-0123456789',
};

/** The environment the fake logged at its start: each name with a fingerprint of its value. */
function sessionEnv(): Record<string, string> {
  const start = ws.fakeLog().find((e) => e.event === 'start');
  expect(start?.env, 'the fake logged no start (did the step pass FAKE_CLAUDE_LOG?)').toBeDefined();
  return start?.env ?? {};
}

const pipeline = (fields: string, top = '') => `name: env-check
${top}steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    prompt: "look around"
${fields
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;

describe('the environment of a claude_code session', () => {
  it("keeps the parent's secrets from the session; passes the basics, Claude Code's own and what the step names", async () => {
    for (const [name, value] of Object.entries(SECRETS)) vi.stubEnv(name, value);
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-test-0123456789abcdef');
    vi.stubEnv('ANTHROPIC_BASE_URL', 'https://gateway.internal');
    vi.stubEnv('HTTPS_PROXY', 'http://proxy.internal:3128');
    vi.stubEnv('NO_PROXY', 'localhost');
    vi.stubEnv('LANG', 'C.UTF-8');
    vi.stubEnv('LC_ALL', 'C.UTF-8');
    vi.stubEnv('TERM', 'xterm-256color');
    vi.stubEnv('TMPDIR', '/tmp');
    vi.stubEnv('DISABLE_TELEMETRY', '1');
    vi.stubEnv('GITHUB_TOKEN', 'ghp_test_0123456789abcdef');
    vi.stubEnv('ELX_TEST_NOT_PASSED', 'not for the session');
    vi.stubEnv('ELX_TEST_UNSET', undefined);
    const events: string[] = [];
    ws.engine.bus.onAny((event) => {
      events.push(JSON.stringify(event));
    });

    const { result, steps } = await ws.run(
      pipeline(`
pass_env: [FAKE_CLAUDE_LOG, GITHUB_TOKEN, ELX_TEST_UNSET]
env: { GIT_AUTHOR_NAME: Elexirion Bot, CI: true, RETRIES: 3 }`),
    );

    expect(result.status, result.error).toBe('succeeded');
    const env = sessionEnv();
    for (const name of [...Object.keys(SECRETS), 'ELX_TEST_NOT_PASSED', 'ELX_TEST_UNSET']) {
      expect(env, name).not.toHaveProperty(name);
    }
    // Passed as they are: the basics, proxies, Claude Code's own, and what pass_env names.
    for (const name of [
      'PATH',
      'HOME',
      'LANG',
      'LC_ALL',
      'TERM',
      'TMPDIR',
      'HTTPS_PROXY',
      'NO_PROXY',
      'ANTHROPIC_API_KEY',
      'ANTHROPIC_BASE_URL',
      'DISABLE_TELEMETRY',
      'GITHUB_TOKEN',
      'FAKE_CLAUDE_LOG',
    ]) {
      expect(env[name], name).toBe(fingerprint(process.env[name] as string));
    }
    // Set by the step (scalars as text).
    expect(env.GIT_AUTHOR_NAME).toBe(fingerprint('Elexirion Bot'));
    expect(env.CI).toBe(fingerprint('true'));
    expect(env.RETRIES).toBe(fingerprint('3'));
    // Nothing else: the session's environment is exactly that, plus what the SDK sets for Claude
    // Code itself (CLAUDE_CODE_ENTRYPOINT, CLAUDE_AGENT_SDK_VERSION, BUN_ENABLE_CRASH_REPORTING …).
    const expected = sessionEnvironment(process.env, {
      passEnv: ['FAKE_CLAUDE_LOG', 'GITHUB_TOKEN', 'ELX_TEST_UNSET'],
      env: { GIT_AUTHOR_NAME: 'Elexirion Bot', CI: 'true', RETRIES: '3' },
    });
    const fromSdk = Object.keys(env).filter((name) => !(name in expected));
    expect(fromSdk.filter((name) => !/^(CLAUDE_|BUN_)/.test(name))).toEqual([]);
    expect(Object.fromEntries(Object.entries(env).filter(([name]) => name in expected))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([name, value]) => [name, fingerprint(value)])),
    );
    // What the session was given is recorded nowhere.
    const recorded = JSON.stringify({ result, steps, events });
    for (const value of [...Object.values(SECRETS), 'ghp_test_0123456789abcdef', 'sk-ant-test-0123456789abcdef']) {
      expect(recorded).not.toContain(value);
    }
  });

  it('gives the session, as ANTHROPIC_API_KEY, the key the pipeline names with providers.anthropic.api_key_env', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-default-0123456789');
    vi.stubEnv('TEAM_ANTHROPIC_KEY', 'sk-ant-team-0123456789');
    const { result } = await ws.run(
      pipeline('pass_env: [FAKE_CLAUDE_LOG]', 'providers:\n  anthropic: { api_key_env: TEAM_ANTHROPIC_KEY }\n'),
    );

    expect(result.status, result.error).toBe('succeeded');
    const env = sessionEnv();
    expect(env.ANTHROPIC_API_KEY).toBe(fingerprint('sk-ant-team-0123456789'));
    expect(env).not.toHaveProperty('TEAM_ANTHROPIC_KEY');
  });

  it("is made from the engine's env (Engine({ env })), not the process's", async () => {
    vi.stubEnv('ELX_TEST_PROCESS_ONLY', 'process-only-value');
    const own = new Workspace({
      env: { PATH: process.env.PATH, FAKE_CLAUDE_LOG: ws.log, ELX_TEST_ENGINE_ONLY: 'engine' },
    });
    try {
      const { result } = await own.run(
        pipeline('pass_env: [FAKE_CLAUDE_LOG, ELX_TEST_ENGINE_ONLY, ELX_TEST_PROCESS_ONLY]'),
      );
      expect(result.status, result.error).toBe('succeeded');
      const env = sessionEnv();
      expect(env.ELX_TEST_ENGINE_ONLY).toBe(fingerprint('engine'));
      expect(env).not.toHaveProperty('ELX_TEST_PROCESS_ONLY');
      expect(env).not.toHaveProperty('HOME'); // the engine's env has none
    } finally {
      await own.dispose();
    }
  });

  it('refuses pass_env and env names that are not variable names', () => {
    const load = (fields: string) => () => loadPipelineFromString(pipeline(fields), 'p.yaml');
    expect(load('pass_env: ["A-B"]')).toThrow(/pass_env/);
    expect(load('env: { "NOT A NAME": x }')).toThrow(/env/);
    expect(load('env: { OK: [1, 2] }')).toThrow(/env/);
    expect(load('pass_env: [GITHUB_TOKEN]\nenv: { GIT_AUTHOR_NAME: x, CI: true, N: 1 }')).not.toThrow();
  });
});

describe('sessionEnvironment', () => {
  const parent = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    LC_CTYPE: 'C.UTF-8',
    https_proxy: 'http://proxy:3128',
    NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
    ANTHROPIC_API_KEY: 'k-default',
    CLAUDE_CONFIG_DIR: '/home/u/.claude',
    MAX_THINKING_TOKENS: '1024',
    TEAM_KEY: 'k-team',
    AWS_ACCESS_KEY_ID: 'a',
    AWS_SECRET_ACCESS_KEY: 's',
    AWS_REGION: 'us-east-1',
    GOOGLE_APPLICATION_CREDENTIALS: '/creds.json',
    CLOUD_ML_REGION: 'us-east5',
    OPENAI_API_KEY: 'o',
    DATABASE_URL: 'postgres://x',
    NODE_OPTIONS: '--inspect',
    UNSET: undefined,
  };
  const basics = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    LC_CTYPE: 'C.UTF-8',
    https_proxy: 'http://proxy:3128',
    NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
    ANTHROPIC_API_KEY: 'k-default',
    CLAUDE_CONFIG_DIR: '/home/u/.claude',
    MAX_THINKING_TOKENS: '1024',
  };

  it('is the basics and Claude Code’s own variables', () => {
    expect(sessionEnvironment(parent)).toEqual(basics);
  });

  it('takes the Anthropic key from the variable api_key_env names, when it is set', () => {
    expect(sessionEnvironment(parent, { apiKeyEnv: 'TEAM_KEY' })).toEqual({ ...basics, ANTHROPIC_API_KEY: 'k-team' });
    expect(sessionEnvironment(parent, { apiKeyEnv: 'UNSET' })).toEqual(basics);
  });

  it('adds pass_env (what is set of it) and env, env last', () => {
    expect(
      sessionEnvironment(parent, {
        passEnv: ['DATABASE_URL', 'UNSET', 'NOWHERE'],
        env: { CI: 'true', PATH: '/opt/bin' },
      }),
    ).toEqual({ ...basics, DATABASE_URL: 'postgres://x', CI: 'true', PATH: '/opt/bin' });
  });

  it('passes the cloud credentials only to a session routed through that cloud', () => {
    const aws = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'us-east-1' };
    expect(sessionEnvironment({ ...parent, CLAUDE_CODE_USE_BEDROCK: '1' })).toEqual({
      ...basics,
      CLAUDE_CODE_USE_BEDROCK: '1',
      ...aws,
    });
    expect(sessionEnvironment(parent, { env: { CLAUDE_CODE_USE_BEDROCK: 'true' } })).toEqual({
      ...basics,
      ...aws,
      CLAUDE_CODE_USE_BEDROCK: 'true',
    });
    expect(sessionEnvironment({ ...parent, CLAUDE_CODE_USE_BEDROCK: '0' })).toEqual({
      ...basics,
      CLAUDE_CODE_USE_BEDROCK: '0',
    });
    expect(sessionEnvironment({ ...parent, CLAUDE_CODE_USE_VERTEX: '1' })).toEqual({
      ...basics,
      CLAUDE_CODE_USE_VERTEX: '1',
      GOOGLE_APPLICATION_CREDENTIALS: '/creds.json',
      CLOUD_ML_REGION: 'us-east5',
    });
  });
});
