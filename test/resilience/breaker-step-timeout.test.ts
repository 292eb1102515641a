// A provider that hangs opens its circuit breaker whether what stops each attempt is the provider's
// `timeout:` or the step's — the default case (step timeout = provider timeout = 300 s, or any step
// `timeout:` at or below the provider's), where the attempt arms no timer of its own and the step's
// deadline ends it. Both are a provider that did not answer in time: a fault the breaker counts
// (docs/resilience.md). Before, the step's deadline came back as the step's own timeout, which the
// breaker did not count, and a hanging provider kept every step waiting out its whole timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools } from '../../src/resilience/connection-pool.js';
import { newEngine, runYaml } from '../engine/harness.js';
import { AnthropicFake, faults } from '../fakes/index.js';

const fake = new AnthropicFake();
let env: Record<string, string>;
beforeAll(async () => {
  env = { ANTHROPIC_BASE_URL: await fake.start(), ANTHROPIC_API_KEY: 'fake-anthropic-key' };
});
afterAll(async () => {
  await fake.stop();
  await closePools();
});

function pipeline(providerTimeout: string, stepTimeout: string): string {
  const steps = [1, 2, 3, 4, 5, 6, 7]
    .map(
      (i) => `  - name: s${i}
    type: claude
    model: claude-haiku-4-5
    prompt: "question ${i} (${providerTimeout})"
    timeout: ${stepTimeout}
    on_error: continue`,
    )
    .join('\n');
  return `name: hang
defaults:
  retry: { max_attempts: 1 }
providers:
  anthropic: { timeout: ${providerTimeout}, circuit_breaker: { failure_threshold: 5, recovery_timeout: 60s } }
steps:
${steps}
`;
}

describe('breaker and a hanging provider', () => {
  it('control: attempts stopped by the provider timeout open the breaker after five', async () => {
    fake.reset();
    fake.setFaultMode(faults.hang());
    const result = await runYaml(newEngine({ env }), pipeline('200ms', '5s'));
    const errors = result.steps.map((s) => `${s.name}: ${s.status} ${s.error ?? ''}`);
    // s5's fault opens the circuit; s6 and s7 fail fast.
    expect(errors.slice(4).join('\n')).toMatch(/s5: .*circuit open[\s\S]*s6: .*circuit open[\s\S]*s7: .*circuit open/);
  });

  it('attempts stopped by the step timeout (the default set-up) open the breaker after five too', async () => {
    fake.reset();
    fake.setFaultMode(faults.hang());
    const result = await runYaml(newEngine({ env }), pipeline('300s', '200ms'));
    const errors = result.steps.map((s) => `${s.name}: ${s.error ?? ''}`);
    expect(errors.slice(5).join('\n')).toMatch(/s6: .*circuit open[\s\S]*s7: .*circuit open/);
  });
});
