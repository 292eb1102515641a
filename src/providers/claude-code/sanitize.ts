// Text that came out of Claude Code (its errors, its stderr) goes into our errors and the journal:
// keep it short, and never let something shaped like a credential through — nor the value of a
// secret environment variable (the session is given some: ANTHROPIC_AUTH_TOKEN, a proxy's password
// in ANTHROPIC_BASE_URL, what the step passes …), with the redactor every log line passes through.
import { createRedactor } from '../../telemetry/redact.js';

const CREDENTIAL = /\b(sk-[A-Za-z0-9_-]{8,}|(?:Bearer|x-api-key:?)\s+[A-Za-z0-9._~+/=-]{8,})/gi;
export const MAX_MESSAGE_LENGTH = 500;

type Env = Readonly<Record<string, string | undefined>>;

/** `text` redacted, and cut to its first `max` characters. */
export function sanitizeMessage(text: string, env: Env = process.env, max = MAX_MESSAGE_LENGTH): string {
  const redacted = redact(text, env);
  return redacted.length > max ? `${redacted.slice(0, max - 3)}...` : redacted;
}

/**
 * `text` redacted, and cut to its last `max` characters: the end of a log (a crash's stderr), where
 * its cause is. Redacted before it is cut, so that the cut cannot split a secret.
 */
export function sanitizeTail(text: string, env: Env = process.env, max = MAX_MESSAGE_LENGTH): string {
  const redacted = redact(text, env);
  return redacted.length > max ? `...${redacted.slice(redacted.length - (max - 3))}` : redacted;
}

function redact(text: string, env: Env): string {
  return createRedactor(env)(text).replace(CREDENTIAL, '[REDACTED]').trim();
}
