// A client of GET /runs/:id/events that stops reading must not hold the server's memory: one that
// takes nothing for too long, or falls too many live events behind, is dropped (it would reconnect
// with Last-Event-ID and read the rest from the journal).
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, StreamChunk } from '../../src/providers/provider.js';
import type { ServiceOptions } from '../../src/server/service.js';
import { type Harness, startHarness, TOKEN } from './harness.js';

/**
 * Streams big chunks once `go` is called — then, with `trickle` chunks, that many small ones once
 * `more` is called — then holds the step open until `release`.
 */
class FloodingMock extends MockProvider {
  go: () => void = () => {};
  more: () => void = () => {};
  release: () => void = () => {};
  flooded!: Promise<void>;
  trickled!: Promise<void>;
  private readonly started = new Promise<void>((resolve) => {
    this.go = resolve;
  });
  private readonly moreWanted = new Promise<void>((resolve) => {
    this.more = resolve;
  });
  private readonly held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private markFlooded: () => void = () => {};
  private markTrickled: () => void = () => {};
  constructor(private readonly trickle = 0) {
    super();
    this.flooded = new Promise((resolve) => {
      this.markFlooded = resolve;
    });
    this.trickled = new Promise((resolve) => {
      this.markTrickled = resolve;
    });
  }
  override async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamChunk> {
    const response = await this.generate(request, signal);
    await this.started;
    const text = 'x'.repeat(16_384);
    for (let i = 0; i < 4_000; i++) {
      yield { type: 'text', text };
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.markFlooded();
    if (this.trickle > 0) {
      await this.moreWanted;
      for (let i = 0; i < this.trickle; i++) yield { type: 'text', text: `t${i} ` };
      this.markTrickled();
    }
    await this.held;
    yield { type: 'done', response };
  }
}

let h: Harness | undefined;
let socket: Socket | undefined;
let mock: FloodingMock | undefined;
/** Bytes the client of `floodingRun` has read. */
let received = 0;
afterEach(async () => {
  mock?.release();
  socket?.destroy();
  await h?.close();
  h = undefined;
});

/**
 * Starts a flooding run; returns a function that opens its event stream without reading it, then —
 * once `readAfter` resolves — reads what is there and says whether the server ended the stream.
 */
async function floodingRun(
  options: Partial<ServiceOptions>,
  trickle = 0,
): Promise<(readAfter: Promise<unknown>) => Promise<string>> {
  mock = new FloodingMock(trickle);
  const flood = mock;
  h = await startHarness({ ...options, engine: { providerFactories: { mock: () => flood } } });
  const submitted = await h.call('/runs', {
    json: { yaml: 'name: flood\nsteps:\n  - { name: s, type: mock, prompt: go }\n', mock: true, stream: true },
  });
  const { run_id } = (await submitted.json()) as { run_id: string };
  const { port } = new URL(h.service.url);
  received = 0;
  return (readAfter) =>
    new Promise<string>((resolve) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write(
          `GET /runs/${run_id}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
        );
        s.pause(); // reads nothing: the server's writes back up
      });
      socket = s;
      s.on('close', () => resolve('ended by the server'));
      s.on('error', () => resolve('ended by the server'));
      void readAfter.then(() => {
        // The stream of a run still running never ends on its own: only a drop ends it.
        setTimeout(() => resolve('still open'), 15_000);
        s.on('data', (data: Buffer) => {
          received += data.length;
        });
        s.resume();
      });
    });
}

describe('event-stream clients that stop reading', () => {
  it('drops one that takes nothing for longer than the stall limit (here while it is sent the replay)', async () => {
    const open = await floodingRun({ maxClientStallMs: 500 });
    mock?.go();
    await mock?.flooded; // 4,000 chunks of 16 KB wait in the hub and the journal: the replay
    // It reads again only well after the stall limit: by then the server has given up on it.
    expect(await open(new Promise((resolve) => setTimeout(resolve, 3_000)))).toBe('ended by the server');
  });

  it('drops one that falls too many live events behind', async () => {
    const open = await floodingRun({ maxClientBacklog: 50, maxClientStallMs: 600_000 });
    let flooded: () => void = () => {};
    const outcome = open(
      new Promise((resolve) => {
        flooded = () => resolve(undefined);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // subscribed before the flood
    mock?.go();
    await mock?.flooded;
    flooded();
    expect(await outcome).toBe('ended by the server');
  });

  it('drops one that falls too many live events behind while it is sent the replay', async () => {
    const open = await floodingRun({ maxClientBacklog: 50, maxClientStallMs: 600_000 }, 200);
    mock?.go();
    await mock?.flooded; // 4,000 chunks of 16 KB wait in the hub: the replay, which the client blocks
    let trickled: () => void = () => {};
    const outcome = open(
      new Promise((resolve) => {
        trickled = () => resolve(undefined);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // the replay is stuck in the connection
    mock?.more(); // 200 live events while it is
    await mock?.trickled;
    trickled();
    expect(await outcome).toBe('ended by the server');
    // Dropped while the replay was stuck, not once it had been sent: it got only a part of it.
    expect(received).toBeLessThan(4_000 * 16_384);
  });
});
