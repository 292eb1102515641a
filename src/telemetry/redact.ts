// Secrets never leave the process in clear: every log line, error body and streamed event passes
// through a redactor that replaces the values of secret-looking environment variables
// (`*_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD`, `*_CREDENTIALS`, and each header value of
// `*_CUSTOM_HEADERS`, where a gateway's credential goes), anything shaped like a known API key, and
// the password of any URL with credentials (`user:pass@`, or `?password=` as PostgreSQL and Redis
// clients also read it).

import { parseHeaders } from '../providers/settings.js';

export const REDACTED = '[REDACTED]';

/** Names of environment variables whose value is a secret. */
const SECRET_ENV_NAME = /(_KEY|_TOKEN|_SECRET|PASSWORD|PASSWD|_CREDENTIALS)$/i; // PGPASSWORD too
/** Variables of `Name: value` lines (the vendors' SDKs read them): every value is a secret. */
const HEADERS_ENV_NAME = /_CUSTOM_HEADERS$/i;

/** Values this short are too likely to appear by chance ("1", "true") to be worth replacing. */
const MIN_SECRET_LENGTH = 6;

/**
 * Shapes of provider keys, redacted even when they did not come from the environment. A new one must
 * also be covered by MAY_HOLD_SHAPE (below), and hold no whitespace nor `"` but a `Bearer`'s, where
 * a streamed answer is cut (redaction.ts).
 */
export const KEY_PATTERNS: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI, Anthropic (sk-ant-…)
  /\bAIza[0-9A-Za-z_-]{20,}/g, // Google API keys
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g,
];

export type Redactor = (text: string) => string;

/**
 * Characters of a URL's userinfo (RFC 3986: unreserved, pct-encoded and sub-delims; and any
 * non-ASCII character, which a URL parser percent-encodes). Never a quote, a backslash, a bracket,
 * a brace, `<`, `>`, `|`, `^`, a backtick or whitespace: none can be in one, so the rule never leaves
 * the JSON string, the quoted word or the token it starts in.
 */
const USERINFO = String.raw`A-Za-z0-9\-._~%!$&'()*+,;=\u00a1-\uffff`;
/** `//user:password@`: the user up to the first `:`, the password to the last `@` of the authority. */
const URL_PASSWORD = new RegExp(`(//[${USERINFO}]*:)[${USERINFO}:@]*@`, 'g');
/**
 * A password in a URL's query (`postgres://bob@host/db?password=…`, `redis://host?password=…`: both
 * clients read it there too), up to the next parameter, fragment, quote or space.
 */
const QUERY_PASSWORD = /([?&](?:password|passwd|pwd|sslpassword)=)[^&#\s"'<>]*/gi;

/**
 * The password of anything that looks like a URL with credentials (`https://user:pass@host`, a
 * proxy in a provider's base URL, a database URL), replaced: it reaches error messages through the
 * URL it belongs to, whatever variable it came from.
 */
export function redactUrl(text: string): string {
  // The password runs to the last `@` of the authority (a URL parser takes a raw `@` in it as part of
  // it), which ends at the first character a userinfo cannot hold: `/`, `?`, `#`, a space, a quote…
  // — so that `{"site":"https://example.com","contact":"bob@example.com"}` is left as it is.
  return text.replace(URL_PASSWORD, '$1***@').replace(QUERY_PASSWORD, '$1***');
}

/**
 * The secret values found in `env`, longest first (so a key containing another is replaced whole),
 * each also as it is spelled inside a JSON string (every log line is one: a `"` or `\\` in a secret
 * is escaped there, once, or twice when a JSON body is quoted in a message) and percent-encoded (in
 * a URL's query or path).
 */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (value.length < MIN_SECRET_LENGTH) return;
    const json = jsonEscaped(value);
    for (const form of [value, json, jsonEscaped(json), uriEncoded(value)]) values.add(form);
  };
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_ENV_NAME.test(name)) add(value);
    else if (HEADERS_ENV_NAME.test(name)) for (const header of Object.values(parseHeaders(value))) add(header);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/** `text` percent-encoded; itself when it cannot be (a lone surrogate). */
function uriEncoded(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `text` as it appears between the quotes of a JSON string. */
function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * What every match of KEY_PATTERNS and of the URL rules contains (case aside): a text without any of
 * these is scanned once, not five times. Model answers pass here whole, and most hold none.
 */
export const MAY_HOLD_SHAPE = /sk-|AIza|Bearer|\/\/|(?:password|passwd|pwd)=/i;
/** The texts MAY_HOLD_SHAPE looks for (lower case): a text ending in the start of one may become one. */
export const SHAPE_STARTS: readonly string[] = [
  'sk-',
  'aiza',
  'bearer',
  '//',
  // A query's password (QUERY_PASSWORD) needs its `?` or `&`: a text ending in one may go on with it.
  ...['?', '&'].flatMap((lead) => ['password=', 'passwd=', 'pwd=', 'sslpassword='].map((key) => lead + key)),
];

export function createRedactor(env: Readonly<Record<string, string | undefined>> = process.env): Redactor {
  const secrets = secretValues(env);
  return (text) => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    if (!MAY_HOLD_SHAPE.test(out)) return out;
    for (const pattern of KEY_PATTERNS) out = out.replace(pattern, REDACTED);
    return redactUrl(out);
  };
}

/** A deep copy of `value` with every string redacted (objects from events, error bodies). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}
