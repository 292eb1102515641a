// Keep-alive connection pools, one per provider, sized to its bulkhead. The vendor SDKs do their
// HTTP through `fetch`; each provider gets a `fetch` bound to its own undici Agent (the library
// behind Node's own fetch), so that connections are reused across calls and runs, and a provider
// never holds more sockets than its max_concurrency lets calls be in flight.
import type { Agent } from 'undici';

/** How long an idle connection is kept for the next call. */
const KEEP_ALIVE_MS = 30_000;

type Undici = Pick<typeof import('undici'), 'Agent' | 'fetch'>;
let undici: Promise<Undici> | undefined;
// Loaded with the first real provider call: a mock run or `validate` never pays for it.
const loadUndici = (): Promise<Undici> => {
  if (!undici) undici = import('undici').then(({ Agent, fetch }) => ({ Agent, fetch }));
  return undici;
};

const pools = new Map<string, Promise<Agent>>();

/** The pool of `provider`, created on first use (its size is fixed by the first caller). */
export function poolFor(provider: string, connections: number): Promise<Agent> {
  let pool = pools.get(provider);
  if (!pool) {
    pool = loadUndici().then(
      ({ Agent }) =>
        new Agent({ connections: Math.max(1, connections), keepAliveTimeout: KEEP_ALIVE_MS, pipelining: 1 }),
    );
    pools.set(provider, pool);
  }
  return pool;
}

/** A `fetch` whose requests go through the provider's pool; hand it to the SDK's client. */
export function pooledFetch(provider: string, connections: number): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const [{ fetch: undiciFetch }, dispatcher] = await Promise.all([loadUndici(), poolFor(provider, connections)]);
    return undiciFetch(input as never, { ...(init as object), dispatcher } as never);
  }) as unknown as typeof fetch;
}

/** Closes every pooled connection (process shutdown, tests). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map(async (pool) => (await pool).close()));
}
