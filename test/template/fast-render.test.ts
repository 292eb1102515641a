// The shortcut past Liquid's evaluator (fast-render.ts) must print exactly what Liquid prints, and
// leave to Liquid everything it does not handle — errors included.
import { Drop } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import { compileFast, renderFast } from '../../src/template/fast-render.js';
import { liquid } from '../../src/template/liquid.js';
import { toTemplateError } from '../../src/template/liquid-errors.js';
import { renderString } from '../../src/template/render.js';
import { buildScope } from '../../src/template/scope.js';

class Secret extends Drop {
  override liquidMethodMissing(key: string): string {
    return `drop:${key}`;
  }
}

const scope = buildScope({
  inputs: { name: 'Ada', count: 3, ratio: 0.5, flag: false, nothing: null, list: ['a', 'b', 'c'], drop: new Secret() },
  variables: { obj: { deep: { x: 1 } }, date: new Date(Date.UTC(2026, 10, 28)), fn: () => 'called' },
  steps: {
    plan: { output: 'a long plan that goes on and on and on for more than forty characters', status: 'succeeded' },
    data: { output: { files: ['x.ts', 'y.ts'], n: 2 }, status: 'succeeded' },
  },
  run: { id: 'run-1', pipeline: 'p' },
});

const viaLiquid = (source: string) => String(liquid.parseAndRenderSync(source, scope));
const viaShortcut = (source: string) => {
  const fast = compileFast(liquid.parse(source));
  return fast === undefined ? 'not compiled' : (renderFast(fast, scope) ?? 'gave up');
};

describe('the template shortcut', () => {
  const handled = [
    'plain text only',
    'Hello {{ name }}, {{ inputs.count }} items ({{ ratio }}), flag={{ flag }}, none=[{{ nothing }}]',
    'step: {{ steps.plan.output | truncate: 40 }}',
    '{{ steps.data.output }} and {{ steps.data.output.files }} and {{ obj.deep }}',
    '{{ list.1 }}{{ list[0] }} {{ steps.data.output.files[1] | upcase | append: "!" }}',
    "{{ 'go' | prepend: 'let us ' }} {{ 42 }} {{ run.id }}",
    '{{ date }} {{ steps.plan.status | replace: "succeeded", "ok" }}',
    '{{ name | json }} {{ obj | yaml }}',
  ];
  for (const source of handled) {
    it(`prints what Liquid prints: ${source}`, () => {
      expect(viaShortcut(source)).toBe(viaLiquid(source));
      expect(renderString(source, scope)).toBe(viaLiquid(source));
    });
  }

  const leftToLiquid = [
    '{{ list.size }}',
    '{{ list.first }}',
    '{{ list[-1] }}',
    '{{ drop.anything }}',
    '{{ fn }}',
    '{{ name.length }}',
    '{{ missing | default: "d" }}',
  ];
  for (const source of leftToLiquid) {
    it(`leaves it to Liquid, which renders it: ${source}`, () => {
      expect(['not compiled', 'gave up']).toContain(viaShortcut(source));
      expect(renderString(source, scope)).toBe(viaLiquid(source));
    });
  }

  it('leaves a missing name to Liquid, whose strict error names it', () => {
    expect(viaShortcut('{{ steps.nope.output }}')).toBe('gave up');
    expect(() => renderString('x {{ steps.nope.output }}', scope)).toThrow(/nope/);
    expect(() => renderString('{{ toString }}', scope)).toThrow(/toString/);
  });

  // Filters answering a generator (run only when its value is read) fail while it runs: the error
  // must be Liquid's, reported as the Liquid path reports it — never the raw LiquidJS error.
  const failingFilters = [
    "{{ list | where: 'k', 'x' }}",
    "tags: {{ inputs.list | find: 'k', 'x' }}",
    "{{ list | where_exp: 'x', 'x.v > 1' }}",
    "{{ list | group_by: 'k' }} after",
  ];
  for (const source of failingFilters) {
    it(`reports a filter's error exactly as Liquid does: ${source}`, () => {
      const viaLiquidPath = (() => {
        try {
          liquid.renderSync(liquid.parse(source), scope);
        } catch (error) {
          return toTemplateError(error, source);
        }
        throw new Error('Liquid rendered it without an error');
      })();
      expect(viaLiquidPath.message).toMatch(/undefined variable "(k|v|x\.v)"/);
      expect(viaShortcut(source)).toBe('gave up');
      let thrown: unknown;
      try {
        renderString(source, scope);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(viaLiquidPath.constructor);
      expect((thrown as Error).message).toBe(viaLiquidPath.message);
    });
  }

  it('is not used for tags', () => {
    expect(viaShortcut('{% if flag %}y{% endif %}')).toBe('not compiled');
  });
});
