// A Claude Code session that printed a secret it was given (an agent reading a `.env`): its text is
// redacted before it becomes the step's output, a streamed chunk, an event or a journal row — the
// journal's files read raw, while its write-ahead log still holds the writes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { REDACTED } from '../../src/telemetry/redact.js';
import { PASS_FAKE_ENV, SCRIPTED_CLAUDE } from './harness.js';
import { perTest } from './per-test.js';

const scope = perTest();

it('a session whose answer quotes a secret of the environment leaves it nowhere', async () => {
  const token = 'gw_live_0123456789abcdef';
  vi.stubEnv('ANTHROPIC_AUTH_TOKEN', token);
  // After the stub: an engine reads its environment's secrets once, when it is made.
  const ws = scope.workspace();
  const events: string[] = [];
  const chunks: string[] = [];
  ws.engine.bus.onAny((event) => events.push(JSON.stringify(event)));
  ws.engine.bus.on('pipeline.step.chunk', (event) => chunks.push(event.text));

  const { result, steps } = await ws.run(`name: leaky-session
steps:
  - name: fix
    type: claude_code
    executable: ${SCRIPTED_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "read the .env [then:leak]"
    stream: true
outputs:
  said: "{{ steps.fix.output }}"
`);
  const files = readdirSync(ws.dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const raw = files.map((f) => readFileSync(join(f.parentPath, f.name)).toString('latin1')).join('\n');

  expect(result.status, result.error).toBe('succeeded');
  expect(result.outputs.said).toBe(`The .env says ANTHROPIC_AUTH_TOKEN=${REDACTED}`);
  expect(steps[0]?.output).toBe(`The .env says ANTHROPIC_AUTH_TOKEN=${REDACTED}`);
  expect(chunks.join('')).toBe(`Working on it.\n\nThe .env says ANTHROPIC_AUTH_TOKEN=${REDACTED}`);
  expect(raw).toContain('The .env says'); // the raw read sees the answer
  for (const text of [raw, ...events]) expect(text.includes(token)).toBe(false);
});
