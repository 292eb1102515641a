// What the vendor SDKs read from process.env on their own when a client is built, and how each
// provider keeps them from it. The engine reads its configuration from the Env it is given
// (settings.ts), so every one of these is either passed explicitly or cancelled:
//
// - @anthropic-ai/sdk: ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN (unread when `apiKey` is passed;
//   `authToken: null` too), ANTHROPIC_BASE_URL (`baseURL` always passed), ANTHROPIC_WEBHOOK_SIGNING_KEY
//   (`webhookKey: null`), ANTHROPIC_CUSTOM_HEADERS (read whatever is passed: cancelled below),
//   ANTHROPIC_PROFILE and the ANTHROPIC_* of its credential chain (read only without a key), and
//   ANTHROPIC_LOG (a log level, see sdk-log.ts);
// - openai: OPENAI_API_KEY, OPENAI_ADMIN_KEY (`adminAPIKey: null`), OPENAI_ORG_ID and OPENAI_PROJECT_ID
//   (`organization`, `project`: the settings' or null), OPENAI_BASE_URL (`baseURL` always passed),
//   OPENAI_WEBHOOK_SECRET (`webhookSecret: null`), OPENAI_CUSTOM_HEADERS (read whatever is passed:
//   cancelled below), OPENAI_LOG;
// - @google/genai: GOOGLE_GENAI_USE_VERTEXAI and GOOGLE_GENAI_USE_ENTERPRISE (`vertexai: false`),
//   GOOGLE_API_KEY and GEMINI_API_KEY (`apiKey` always passed), GOOGLE_GEMINI_BASE_URL and
//   GOOGLE_VERTEX_BASE_URL (`httpOptions.baseUrl` always passed), GOOGLE_CLOUD_PROJECT and
//   GOOGLE_CLOUD_LOCATION (Vertex only, so unused).
import { parseHeaders } from './settings.js';

/**
 * The `defaultHeaders` of an Anthropic or OpenAI client: every header the SDK will add from
 * `variable` in process.env (ANTHROPIC_CUSTOM_HEADERS, OPENAI_CUSTOM_HEADERS — it reads them
 * whatever the options say) set to null, the SDKs' way of removing a header; then `own`, the
 * provider's settings' headers (from the engine's Env, for the operator's endpoint only).
 */
export function clientHeaders(
  variable: 'ANTHROPIC_CUSTOM_HEADERS' | 'OPENAI_CUSTOM_HEADERS',
  own: Readonly<Record<string, string>> | undefined,
): Record<string, string | null> {
  const kept = new Set(Object.keys(own ?? {}).map((name) => name.toLowerCase()));
  const headers: Record<string, string | null> = {};
  for (const name of Object.keys(parseHeaders(process.env[variable]))) {
    if (!kept.has(name.toLowerCase())) headers[name] = null;
  }
  return { ...headers, ...own };
}
