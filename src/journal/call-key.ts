// The content address of a provider call: sha256 of the canonical JSON of everything that can
// change the answer — provider, model, system, messages, parameters, tools, output schema, extra.
// Canonical: object keys sorted, undefined fields dropped, so `{a, b}` and `{b, a}` (or a field
// set to undefined) address the same call. Anything that changes the answer changes the key.
import { hash } from 'node:crypto';
import { canonicalJson } from '../config/canonical.js';
import type { ModelRequest } from '../providers/provider.js';

/** Bumped when the canonical form changes, so that old records stop answering. */
const KEY_VERSION = 'elexirion.call.v1';

/**
 * `endpoint`: who answers, when not the standard service of the provider's name (Provider.endpoint);
 * absent, the key is what it always was.
 */
export function callKey(request: ModelRequest, endpoint?: string): string {
  // One-shot hash (Node ≥ 20.12): half the cost of a Hash object for a text this short, on every call.
  return hash('sha256', `${KEY_VERSION}\n${canonicalJson(addressedParts(request, endpoint))}`, 'hex');
}

/** What a call's key addresses, by name (cassette-miss.ts says which of them changed). */
export function addressedParts(request: ModelRequest, endpoint?: string) {
  // Keys in sorted order, as the canonical form has them: canonicalJson then need not sort them.
  return {
    endpoint,
    extra: request.extra,
    messages: request.messages,
    model: request.model,
    parameters: {
      maxTokens: request.maxTokens,
      stop: request.stop,
      temperature: request.temperature,
      topP: request.topP,
    },
    provider: request.provider,
    schema: request.schema,
    system: request.system,
    tools: request.tools,
  };
}

export { canonicalJson };
