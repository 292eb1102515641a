// The vendor SDKs log through a logger of their own, `console` by default: a malformed stream chunk
// is printed with console.error ("Could not parse message into JSON: …") before the SDK throws, and
// that lands in the middle of the CLI's output. The failure itself already reaches us as the thrown
// error (a ProviderError of kind invalid_response), so the SDK's logging is off — unless its own
// variable (`ANTHROPIC_LOG`, `OPENAI_LOG`) asks for it while debugging; then it goes to stderr, never
// to stdout, where `--json` output lives.
import { Console } from 'node:console';

/** The `logLevel` / `logger` client options of the Anthropic and OpenAI SDKs (both Stainless-built). */
export function sdkLogOptions(
  variable: 'ANTHROPIC_LOG' | 'OPENAI_LOG',
  env: NodeJS.ProcessEnv = process.env,
): { logLevel: 'off' } | { logger: Console } {
  // Asked for: the SDK reads (and checks) the level from the variable itself; only the destination changes.
  if (env[variable]?.trim()) return { logger: new Console({ stdout: process.stderr, stderr: process.stderr }) };
  return { logLevel: 'off' };
}
