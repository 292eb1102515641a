// `ttl: 3600` is 3600 ms, 3.6 s (a number without a unit is milliseconds): an hour in seconds with
// the unit forgotten, that loaded and cached for seconds. A unitless ttl that is whole minutes as
// seconds but not even whole half seconds as milliseconds is refused; round milliseconds still load.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { diagnosticsOf } from './diagnostics-of.js';

const withTtl = (ttl: string | number) =>
  ['name: p', 'steps:', '  - name: a', '    type: mock', '    prompt: hi', `    cache: { ttl: ${ttl} }`, ''].join('\n');

describe('a unitless ttl that reads as seconds', () => {
  it('`ttl: 3600`: refused at its value, both readings named, the unit to write', () => {
    expect(diagnosticsOf(withTtl(3600))).toEqual([
      {
        file: 'p.yaml',
        line: 6,
        col: 19,
        path: 'steps[0].cache.ttl',
        message: '`ttl: 3600` has no unit, so it is 3600 ms (3.6 s), not 3600 seconds (1h)',
        hint: 'write the unit: `3600s` for seconds (or `3600ms` if milliseconds are meant)',
      },
    ]);
  });

  it('other usual lifetimes in seconds, in defaults and batch templates too', () => {
    for (const ttl of [1800, 5400, 86400, 604800]) expect(diagnosticsOf(withTtl(ttl))).toHaveLength(1);
    expect(diagnosticsOf(withTtl(5400))[0]?.message).toContain('not 5400 seconds (90m)');
    const places = diagnosticsOf(
      [
        'name: p',
        'defaults: { cache: { ttl: 7200 } }',
        'steps:',
        '  - { name: b, type: batch, items: [1], step_template: { type: mock, prompt: "{{ item }}", cache: { ttl: 43200 } } }',
      ].join('\n'),
    );
    expect(places.map((d) => d.path)).toEqual(['defaults.cache.ttl', 'steps[0].step_template.cache.ttl']);
  });

  it('loads what may be milliseconds (whole half seconds), a unit, and timeouts of the same numbers', () => {
    for (const ttl of [1000, 1500, 2500, 4500, 5000, 9000, 30000, 60000, 3600000, '3600s', '3600ms', '1h']) {
      expect(() => loadPipelineFromString(withTtl(ttl), 'p.yaml'), String(ttl)).not.toThrow();
    }
    const timeout = withTtl('1h').replace('    prompt: hi', '    prompt: hi\n    timeout: 1800');
    expect(() => loadPipelineFromString(timeout, 'p.yaml')).not.toThrow();
  });
});
