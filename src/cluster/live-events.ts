// The reading side of live events in a cluster: a follower reads a run's Redis Stream (written by
// the worker's EventRelay) — first everything it still holds, so that a follower that comes late
// catches up with the tokens already streamed, then each new entry as it is added. It owns its
// connection: a blocking XREAD holds a connection for itself.
//
// Redis away: the reads fail and are tried again (from the last entry read, so nothing the stream
// keeps is missed); meanwhile the follower has the journal.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { RELAY_MAX_LEN, type RelayedEvent, runEventsKey } from './event-relay.js';

/** How long one XREAD waits for new entries (the reader checks whether it was closed in between). */
const BLOCK_MS = 1_000;
const RETRY_MS = 500;

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

export class LiveRunEvents {
  private closed = false;
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    runId: string,
    private readonly onEvents: (events: RelayedEvent[]) => void,
  ) {
    this.key = runEventsKey(prefix, runId);
    this.redis.on('error', () => {}); // reconnects on its own; the journal covers the meantime
    void this.read();
  }

  close(): void {
    this.closed = true;
    this.redis.disconnect(); // also ends a blocking read at once
  }

  private async read(): Promise<void> {
    let lastId = '0-0';
    while (!this.closed) {
      try {
        // From 0-0 the first read returns what the stream holds (at most about RELAY_MAX_LEN).
        const reply = (await this.redis.xread(
          'COUNT',
          RELAY_MAX_LEN * 2,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.key,
          lastId,
        )) as StreamReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0 || this.closed) continue;
        lastId = (entries.at(-1) as [string, string[]])[0];
        const events = entries.map(([, fields]) => parse(fields)).filter((e): e is RelayedEvent => e !== undefined);
        if (events.length > 0) this.onEvents(events);
      } catch {
        if (!this.closed) await sleep(RETRY_MS);
      }
    }
  }
}

/**
 * The execution of a run its worker is running now, as its relayed events name it (their `base` and
 * `startAt`): that of the last event its stream holds, unless that event is the execution's stop.
 * Undefined when the stream names none: empty or expired (Redis lost it, the run is idle), a worker
 * that relays no `startAt`. One command, for a client that comes back with an event id.
 */
export async function relayedExecution(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<{ seq: number; at: number } | undefined> {
  const [entry] = await redis.xrevrange(runEventsKey(prefix, runId), '+', '-', 'COUNT', 1);
  const last = entry ? parse(entry[1]) : undefined;
  if (last?.startAt === undefined || last.type === 'pipeline.execution.stop') return undefined;
  return { seq: last.base, at: last.startAt };
}

function parse(fields: string[]): RelayedEvent | undefined {
  const json = fields[fields.indexOf('e') + 1];
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as RelayedEvent;
  } catch {
    return undefined; // not ours: skipped, the journal has the run's events anyway
  }
}
