// Text that came out of Claude Code (its errors, its stderr) goes into our errors and the journal:
// keep it short, and never let something shaped like a credential through.
const CREDENTIAL = /\b(sk-[A-Za-z0-9_-]{8,}|(?:Bearer|x-api-key:?)\s+[A-Za-z0-9._~+/=-]{8,})/gi;
const MAX_LENGTH = 500;

export function sanitizeMessage(text: string): string {
  const redacted = text.replace(CREDENTIAL, '[redacted]').trim();
  return redacted.length > MAX_LENGTH ? `${redacted.slice(0, MAX_LENGTH - 3)}...` : redacted;
}
