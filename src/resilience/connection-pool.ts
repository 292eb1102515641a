// Keep-alive connection pools, one per provider and size, sized to its bulkhead. The vendor SDKs do their
// HTTP through `fetch`; each provider gets a `fetch` bound to its own undici Agent (the library
// behind Node's own fetch), so that connections are reused across calls and runs, and a provider
// never holds more sockets than its max_concurrency lets calls be in flight.
//
// The pool sets no deadline of its own on a request. undici's defaults would: 300 s for the answer's
// headers (headersTimeout) and 300 s of silence in its body (bodyTimeout), whatever the step's or
// the provider's `timeout` says — a non-streamed reasoning call that takes six minutes would be cut
// at five, and retried, and paid again. The caller's AbortSignal is the one deadline of a call
// (resilience/timeout.ts); the SDKs' own client timeouts are pushed past any timer too (the
// providers' SDK_TIMEOUT_MS). The Gemini SDK does the same for the fetch it would use itself (its
// "no-timeout dispatcher"); ours replaces that one, so it has to say so too.
import type { Agent } from 'undici';

/** How long an idle connection is kept for the next call. */
const KEEP_ALIVE_MS = 30_000;

/**
 * The options of each pool's Agent. `headersTimeout: 0` and `bodyTimeout: 0` turn undici's own
 * 300 s limits off (see the top of this file); `connectTimeout` stays undici's (10 s to open a
 * socket): a host that cannot be reached is a fault to report soon, not to wait out.
 */
export function poolOptions(connections: number): ConstructorParameters<typeof Agent>[0] & object {
  return {
    connections: Math.max(1, connections),
    keepAliveTimeout: KEEP_ALIVE_MS,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  };
}

type Undici = Pick<typeof import('undici'), 'Agent' | 'fetch'>;
let undici: Promise<Undici> | undefined;
// Loaded with the first real provider call: a mock run or `validate` never pays for it.
const loadUndici = (): Promise<Undici> => {
  if (!undici) undici = import('undici').then(({ Agent, fetch }) => ({ Agent, fetch }));
  return undici;
};

const pools = new Map<string, Promise<Agent>>();

/**
 * The pool of the gate `gate` (its identity key, gate-key.ts) for `connections` calls in flight,
 * created on first use: one per gate, as each configuration of a provider has a gate of its own
 * (gate-registry.ts) — a pipeline declaring `max_concurrency: 4` for a name must not be held to the
 * sockets of another's 1, nor two gates of 1 to one socket.
 */
export function poolFor(gate: string, connections: number): Promise<Agent> {
  const key = `${gate} ${connections}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = loadUndici().then(({ Agent }) => new Agent(poolOptions(connections)));
    pools.set(key, pool);
  }
  return pool;
}

/** A `fetch` whose requests go through the pool of the gate `gate`; hand it to the SDK's client. */
export function pooledFetch(gate: string, connections: number): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const [{ fetch: undiciFetch }, dispatcher] = await Promise.all([loadUndici(), poolFor(gate, connections)]);
    return undiciFetch(input as never, { ...(init as object), dispatcher } as never);
  }) as unknown as typeof fetch;
}

/** Closes every pooled connection (process shutdown, tests). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map(async (pool) => (await pool).close()));
}
