// The CLI's stdout and stderr pass every write through the redactor (src/cli/redacting-stream.ts):
// text and bytes alike — bytes decoded across writes, so a character split between two is whole.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { redactingStream } from '../../src/cli/redacting-stream.js';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';

function capture() {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { sink, text: () => text };
}

describe('a redacting stream', () => {
  const redact = createRedactor({ DEPLOY_TOKEN: 'dt-planted-7h8j9k0l' });

  it('redacts text and bytes written to it', () => {
    const { sink, text } = capture();
    const out = redactingStream(sink, redact);
    out.write('token dt-planted-7h8j9k0l\n');
    out.write(Buffer.from('again dt-planted-7h8j9k0l\n'));
    expect(text()).toBe(`token ${REDACTED}\nagain ${REDACTED}\n`);
  });

  it('keeps a character whose bytes are split between two writes whole', () => {
    const { sink, text } = capture();
    const out = redactingStream(sink, redact);
    const bytes = Buffer.from('café ✓\n');
    out.write(bytes.subarray(0, 4)); // `caf` and the first byte of `é`
    out.write(bytes.subarray(4));
    expect(text()).toBe('café ✓\n');
  });
});
