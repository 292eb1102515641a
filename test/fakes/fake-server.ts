// The shared base of the protocol fakes: a real node:http server on 127.0.0.1 (port 0) that records
// every request (and whether the client went away before the answer), counts requests in flight,
// injects faults, and answers with scripted or default answers rendered by the protocol subclass.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultAnswer, type FakeAnswer, type RequestDigest, withinOutputCap } from './answer.js';
import type { Fault } from './faults.js';
import { formatSse, type SseEvent, startSse } from './sse.js';

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined when the body is empty or not JSON). */
  body: unknown;
  rawBody: string;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
  /** When it arrived (Date.now(), as its handler began). */
  at: number;
  /** The fault injected into this request, if any. */
  fault?: Fault['kind'];
}

/** What a subclass recognises in a request: whether it streams, and what the default answer needs. */
export interface Route {
  stream: boolean;
  digest: RequestDigest;
}

export type AnswerScript = (request: RecordedRequest, digest: RequestDigest) => FakeAnswer | Promise<FakeAnswer>;

export abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  peakInFlight = 0;
  /** TCP connections accepted so far, open now, and open at most at once (keep-alive shows here). */
  connections = 0;
  openConnections = 0;
  peakOpenConnections = 0;
  /** Delay before each answer (or fault), to make concurrency observable. */
  latencyMs = 0;
  /** Delay between the events of a streamed answer, to make a stream's pace observable. */
  chunkDelayMs = 0;
  /**
   * Awaited before each event of a streamed answer after the first (`index` ≥ 1): a test holds a
   * stream mid-body with it for as long as it likes (the server sends nothing meanwhile).
   */
  beforeEvent: ((index: number) => Promise<void>) | undefined;

  private server: Server | undefined;
  private url = '';
  private readonly faultQueue: Fault[] = [];
  private faultMode: Fault | null = null;
  private readonly answerQueue: FakeAnswer[] = [];
  private script: AnswerScript | undefined;

  /** The protocol's name, used in messages. */
  protected abstract readonly label: string;
  /** Recognises the endpoint; null answers 404. */
  protected abstract route(request: RecordedRequest): Route | null;
  protected abstract renderJson(answer: FakeAnswer, route: Route): unknown;
  protected abstract renderEvents(answer: FakeAnswer, route: Route): SseEvent[];
  protected abstract errorBody(status: number, message: string): unknown;
  /** A request the real API refuses (before any fault or answer): its status and message. */
  protected refuse(_request: RecordedRequest, _route: Route): { status: number; message: string } | undefined {
    return undefined;
  }
  /** Anthropic's shape (`event: error`); the other protocols override it with their own. */
  protected streamErrorEvent(fault: Extract<Fault, { kind: 'stream_error' }>): SseEvent {
    return { event: 'error', data: { type: 'error', error: { type: fault.errorType, message: fault.message } } };
  }

  get baseUrl(): string {
    if (!this.url) throw new Error(`${this.label} fake: start() it first`);
    return this.url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake server bug: ${String(err)}`);
      });
    });
    server.on('connection', (socket) => {
      this.connections++;
      this.openConnections++;
      this.peakOpenConnections = Math.max(this.peakOpenConnections, this.openConnections);
      socket.on('close', () => this.openConnections--);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Faults for the next requests, one per request, in order. */
  injectFault(...faults: Fault[]): this {
    this.faultQueue.push(...faults);
    return this;
  }

  /** A fault applied to every request (after the queue is empty); null clears it. */
  setFaultMode(fault: Fault | null): this {
    this.faultMode = fault;
    return this;
  }

  /** Canned answers for the next requests, in order; then the script, then the default answer. */
  queueAnswers(...answers: FakeAnswer[]): this {
    this.answerQueue.push(...answers);
    return this;
  }

  setScript(script: AnswerScript | undefined): this {
    this.script = script;
    return this;
  }

  /** Forgets recorded requests, queued faults and answers, the mode and the script. */
  reset(): void {
    this.requests.length = 0;
    this.faultQueue.length = 0;
    this.answerQueue.length = 0;
    this.faultMode = null;
    this.script = undefined;
    this.inFlight = 0;
    this.peakInFlight = 0;
    this.latencyMs = 0;
    this.chunkDelayMs = 0;
    this.beforeEvent = undefined;
  }

  /** Resolves when `predicate` holds (polled), or rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.label} fake: condition not met within ${timeoutMs}ms`);
      await sleep(5);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: parseJson(rawBody),
      rawBody,
      aborted: false,
      at: Date.now(),
    };
    this.requests.push(record);
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.on('close', () => {
      this.inFlight -= 1;
      if (!res.writableFinished) record.aborted = true;
    });

    const route = this.route(record);
    if (!route) {
      this.sendJson(res, 404, this.errorBody(404, `${this.label} fake: no route for ${record.method} ${record.path}`));
      return;
    }
    const refusal = this.refuse(record, route);
    if (refusal) {
      this.sendJson(res, refusal.status, this.errorBody(refusal.status, refusal.message));
      return;
    }
    const fault = this.faultQueue.shift() ?? this.faultMode ?? undefined;
    if (fault) record.fault = fault.kind;
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (fault?.kind === 'hang') return; // the socket stays open until the client closes it
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      this.sendJson(
        res,
        fault.status,
        fault.body ?? this.errorBody(fault.status, fault.message ?? `error ${fault.status}`),
        fault.headers,
      );
      return;
    }
    const answer = withinOutputCap(
      this.answerQueue.shift() ?? (await this.script?.(record, route.digest)) ?? defaultAnswer(route.digest),
      route.digest,
    );
    if (route.stream) await this.sendStream(req, res, this.renderEvents(answer, route), fault);
    else this.sendAnswer(req, res, this.renderJson(answer, route), fault);
  }

  private sendAnswer(req: IncomingMessage, res: ServerResponse, body: unknown, fault: Fault | undefined): void {
    const text = JSON.stringify(body);
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${text.slice(0, Math.floor(text.length / 2))}<<not json`);
      return;
    }
    if (fault?.kind === 'truncate') {
      const half = text.slice(0, Math.floor(text.length / 2));
      if (fault.how === 'end') {
        // A clean end of body: no length to contradict it, and the connection closes with the body.
        res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
        res.end(half);
        return;
      }
      // A length the body never reaches: the client sees the socket die mid-body.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.write(half);
      req.socket.destroy();
      return;
    }
    this.sendJson(res, 200, body);
  }

  private async sendStream(
    req: IncomingMessage,
    res: ServerResponse,
    events: SseEvent[],
    fault: Fault | undefined,
  ): Promise<void> {
    startSse(res);
    let toSend = events;
    if (fault?.kind === 'truncate' || fault?.kind === 'stream_error') toSend = events.slice(0, fault.afterEvents ?? 2);
    if (fault?.kind === 'malformed') toSend = [events[0] as SseEvent, { event: events[1]?.event, data: '{"broken": ' }];
    for (const [i, e] of toSend.entries()) {
      if (i > 0 && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      if (i > 0 && this.beforeEvent) await this.beforeEvent(i);
      if (res.destroyed) return; // the client went away mid-stream
      res.write(formatSse(e));
    }
    if (fault?.kind === 'stream_error') res.write(formatSse(this.streamErrorEvent(fault)));
    if (fault?.kind === 'truncate' && fault.how === 'destroy') {
      req.socket.destroy();
      return;
    }
    res.end();
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
