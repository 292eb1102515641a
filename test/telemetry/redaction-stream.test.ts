// A streamed answer is redacted piece by piece (src/telemetry/redaction.ts): however the text is cut
// into chunks, what comes out is what redacting it whole gives — a secret split between two chunks
// included — and a text with nothing to hide comes out as it went in.
import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';
import { createRedaction } from '../../src/telemetry/redaction.js';

const ENV = {
  DEPLOY_TOKEN: 'dt-planted-7h8j9k0l',
  // A gateway credential: its value holds a space (a cut point), and so does its JSON spelling.
  ANTHROPIC_CUSTOM_HEADERS: 'Authorization: Bearer gw-cred 5t6y7u8i',
  DB_PASSWORD: 'pa"ss wo rd-Q7',
};

const TEXT = [
  'Found in .env: DEPLOY_TOKEN=dt-planted-7h8j9k0l and a header Bearer gw-cred 5t6y7u8i.',
  'Also {"pw":"pa\\"ss wo rd-Q7"} and pa"ss wo rd-Q7 raw, a key sk-proj-abcdefgh12345678,',
  'Authorization: Bearer abc.def.ghi12345 and postgres://app:pw-123@db:5432/x then "done".',
  // No word boundary before `sk-`: not a key shape, in the stream either, however it is cut.
  'build id1234sk-notakeyatall99 ok',
].join('\n');

/** What the stream emits for `text` cut at `cuts`, joined. */
function streamed(text: string, cuts: number[], env: Record<string, string> = ENV): string {
  const out: string[] = [];
  const stream = createRedaction(env).stream((piece) => out.push(piece));
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    stream.push(text.slice(from, cut));
    from = cut;
  }
  stream.end();
  return out.join('');
}

describe('a streamed answer, redacted', () => {
  const whole = createRedactor(ENV)(TEXT);

  it('redacting it whole hides every secret (the reference)', () => {
    for (const secret of ['dt-planted', 'gw-cred', 'rd-Q7', 'sk-proj', 'abc.def', 'pw-123']) {
      expect(whole).not.toContain(secret);
    }
    expect(whole).toContain(REDACTED);
  });

  it('cut in two anywhere, comes out as redacted whole', () => {
    for (let cut = 0; cut <= TEXT.length; cut++) expect(streamed(TEXT, [cut]), `cut at ${cut}`).toBe(whole);
  });

  it('cut into chunks of any size, comes out as redacted whole', () => {
    for (let size = 1; size <= 12; size++) {
      const cuts = Array.from({ length: Math.floor(TEXT.length / size) }, (_, i) => (i + 1) * size);
      expect(streamed(TEXT, cuts), `chunks of ${size}`).toBe(whole);
    }
  });

  it('passes a text without secrets as it is, each piece as it arrives unless it may end in the start of one', () => {
    const plain = 'The build is green: 3 files, "ok" at https://example.com/a?b=1 and bob@example.com.';
    expect(streamed(plain, [5, 17, 40, 41, 70], {})).toBe(plain);
    const out: string[] = [];
    const stream = createRedaction({}).stream((piece) => out.push(piece));
    stream.push('one two thr');
    expect(out).toEqual(['one two thr']); // plain words go at once, the one under way too
    stream.push('ee sk');
    expect(out.join('')).toBe('one two three '); // `sk` may begin a key (`sk-…`): held back…
    stream.push('y');
    expect(out.join('')).toBe('one two three sky'); // …until it cannot
    stream.push(' Bearer ab');
    expect(out.join('')).toBe('one two three sky '); // a bearer token under way waits for its end
    stream.push('c-12345 done');
    stream.end();
    expect(out.join('')).toBe('one two three sky [REDACTED] done');
  });

  it("holds back a query's `&` or `?`: the password after it is a query password only with it", () => {
    const text = 'see /login?user=bob&password=hunter22 now, or /x?pwd=s3cr3t-1 then';
    const whole = createRedactor({})(text);
    expect(whole).not.toContain('hunter22');
    expect(whole).not.toContain('s3cr3t-1');
    for (let cut = 0; cut <= text.length; cut++) expect(streamed(text, [cut], {}), `cut at ${cut}`).toBe(whole);
  });

  it('streams chunks of plain words one for one (events keep their grain)', () => {
    const out: string[] = [];
    const stream = createRedaction(ENV).stream((piece) => out.push(piece));
    const chunks = Array.from({ length: 50 }, (_, i) => `${i}xxxxxxxx`);
    for (const chunk of chunks) stream.push(chunk);
    expect(out).toEqual(chunks);
  });

  it('emits nothing held back when the stream is not ended (an attempt given up)', () => {
    const out: string[] = [];
    const stream = createRedaction(ENV).stream((piece) => out.push(piece));
    stream.push('token dt-planted-');
    expect(out.join('')).toBe('token ');
  });
});
