// Keep-alive connection pools, one per provider, sized to its bulkhead.
//
// What we found about the SDKs: @anthropic-ai/sdk 1.x, openai 6 and @google/genai 2 all do their
// HTTP through `fetch` (Node's built-in undici), not through `http.Agent`. Node's fetch already
// keeps connections alive and pools them per origin, and the bulkhead caps the requests in flight
// to a provider at max_concurrency, so the pool never grows beyond the bulkhead either. Sizing it
// explicitly would need an undici `Agent({ connections })` passed as `fetchOptions.dispatcher`;
// the `undici` package is not a dependency, so we rely on the bulkhead bound instead.
// `agentFor` serves clients that do take an `http.Agent` (node:http/https requests, custom tools).
import http from 'node:http';
import https from 'node:https';

const agents = new Map<string, { http: http.Agent; https: https.Agent }>();

/** One keep-alive agent pair per provider, created on first use and shared afterwards. */
export function agentFor(provider: string, maxSockets: number, protocol: 'http' | 'https' = 'https'): http.Agent {
  let pair = agents.get(provider);
  if (!pair) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
    pair = { http: new http.Agent(options), https: new https.Agent(options) };
    agents.set(provider, pair);
  }
  return protocol === 'http' ? pair.http : pair.https;
}

/** Closes every pooled socket (process shutdown, tests). */
export function destroyAgents(): void {
  for (const pair of agents.values()) {
    pair.http.destroy();
    pair.https.destroy();
  }
  agents.clear();
}
