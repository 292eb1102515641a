// Templates that would take the process down — a range of a billion elements (a V8 fatal error, not
// an exception: one inline pipeline sent to `serve` killed it), a string doubled into hundreds of
// millions of characters — are template errors: Liquid's memory limit (ten million units, checked
// before the range or string is made) and a bound on what a template may print. Run in a child
// process so that a crash could not take vitest down.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const renderModule = resolve(__dirname, '../../src/template/render.ts');

function renderInChild(template: string) {
  const code = `
    const { renderString } = await import(${JSON.stringify(renderModule)});
    const scope = { inputs: {}, variables: {}, steps: {}, run: { id: 'r', pipeline: 'p' } };
    try { renderString(${JSON.stringify(template)}, scope); console.log('rendered'); }
    catch (e) { console.log('template error: ' + e.message.slice(0, 80)); }
  `;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('template render limits', () => {
  it('a huge range is a template error, not a crash of the process', () => {
    const child = renderInChild('{{ (1..900000000) | size }}');
    // Expected: exit 0 with "template error: ... limit exceeded". Actual: SIGTRAP, "Fatal JavaScript invalid size error".
    expect(child.stderr).not.toContain('Fatal JavaScript');
    expect(child.status).toBe(0);
    expect(child.stdout).toMatch(/template error/);
  });
});
