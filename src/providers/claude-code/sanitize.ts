// Text that came out of Claude Code (its errors, its stderr) goes into our errors and the journal:
// keep it short, and never let something shaped like a credential through — nor the value of a
// secret environment variable (the session is given some: ANTHROPIC_AUTH_TOKEN, a proxy's password
// in ANTHROPIC_BASE_URL, what the step passes …), with the redactor every log line passes through.
import { createRedactor } from '../../telemetry/redact.js';

const CREDENTIAL = /\b(sk-[A-Za-z0-9_-]{8,}|(?:Bearer|x-api-key:?)\s+[A-Za-z0-9._~+/=-]{8,})/gi;
const MAX_LENGTH = 500;

export function sanitizeMessage(text: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const redacted = createRedactor(env)(text).replace(CREDENTIAL, '[REDACTED]').trim();
  return redacted.length > MAX_LENGTH ? `${redacted.slice(0, MAX_LENGTH - 3)}...` : redacted;
}
