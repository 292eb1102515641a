// One endpoint, one gate: base URLs are compared as URL makes them (host case, default or
// zero-padded port, trailing slash), so respellings neither get slots of their own nor let an
// inline pipeline sent to `serve` mint gates without end.
import { expect, it, vi } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { checkInlineProviders } from '../../src/server/inline-providers.js';

it('one endpoint, spelled differently, shares one gate', () => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const registry = new GateRegistry();
  const a = registry.forPipeline({ local: { type: 'openai', base_url: 'http://gpu-box:8000/v1' } }).gate('local');
  const b = registry.forPipeline({ local: { type: 'openai', base_url: 'http://GPU-BOX:8000/v1' } }).gate('local');
  const c = registry.forPipeline({ local: { type: 'openai', base_url: 'https://gpu-box:443/v1' } }).gate('local');
  const d = registry.forPipeline({ local: { type: 'openai', base_url: 'https://gpu-box/v1' } }).gate('local');
  expect(b).toBe(a);
  expect(c).toBe(d);
});

it('an inline pipeline cannot mint unbounded gates (kept for the life of the server) by respelling an allowed base_url', () => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  const registry = new GateRegistry();
  for (let zeros = 1; zeros <= 50; zeros++) {
    const url = `http://gpu-box:${'0'.repeat(zeros)}8000/v1`;
    const loaded = loadPipelineFromString(
      JSON.stringify({
        name: 'p',
        providers: { openai: { base_url: url } },
        steps: [{ name: 's', type: 'llm', provider: 'openai', model: 'm', prompt: 'hi' }],
      }),
      '(inline).yaml',
    );
    // accepted by the policy: normalizeUrl() drops the leading zeros
    checkInlineProviders(loaded, { allowBaseUrls: ['http://gpu-box:8000/v1'] });
    registry.forPipeline(loaded.pipeline.providers).gate('openai');
  }
  expect(registry.all().length).toBe(1);
});
