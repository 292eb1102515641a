// The content address of a provider call: sha256 of the canonical JSON of everything that can
// change the answer — provider, model, system, messages, parameters, tools, output schema, extra.
// Canonical: object keys sorted, undefined fields dropped, so `{a, b}` and `{b, a}` (or a field
// set to undefined) address the same call. Anything that changes the answer changes the key.
import { hash } from 'node:crypto';
import { canonicalJson } from '../config/canonical.js';
import type { ModelRequest } from '../providers/provider.js';

/** Bumped when the canonical form changes, so that old records stop answering. */
const KEY_VERSION = 'elexirion.call.v1';

export function callKey(request: ModelRequest): string {
  const addressed = {
    provider: request.provider,
    model: request.model,
    system: request.system,
    messages: request.messages,
    parameters: {
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      topP: request.topP,
      stop: request.stop,
    },
    tools: request.tools,
    schema: request.schema,
    extra: request.extra,
  };
  // One-shot hash (Node ≥ 20.12): half the cost of a Hash object for a text this short, on every call.
  return hash('sha256', `${KEY_VERSION}\n${canonicalJson(addressed)}`, 'hex');
}

export { canonicalJson };
