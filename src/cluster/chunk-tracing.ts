// The spans of the batch chunks a cluster worker runs, and of their items' calls. A chunk's items
// run on whichever worker takes the chunk job, while their batch's step span lives on the run's
// worker — usually another process. So the run's worker puts the step span's context in each chunk
// job's data (`traceparent`, batch-fanout.ts), and here each chunk job gets a span of its own under
// it, with its items' calls under that: a backend shows them in the run's trace, below its batch.
// A chunk job without a usable `traceparent` (the run's worker traces nothing, or enqueued it before
// chunks carried one) still gets its span, as the root of a trace of its own.
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { CallSpans } from '../telemetry/call-spans.js';
import type { EventBus } from '../telemetry/event-bus.js';
import { ELEXIRION } from '../telemetry/genai-attributes.js';
import type { Redactor } from '../telemetry/redact.js';
import { contextOfTraceparent } from '../telemetry/traceparent.js';
import { ITEMS_QUEUE, type ItemChunkData } from './item-queue.js';

/** The status message of an item call whose chunk ended before the call's answer came. */
export const CHUNK_UNANSWERED = 'no answer: its chunk stopped during the call';

/** What a chunk's span needs of its BullMQ job. */
export interface ChunkJob {
  id?: string | undefined;
  data: ItemChunkData;
}

export interface TracedChunk {
  /** Ends the chunk's span — failed, with `error` — and the calls of its items still open. */
  end(error?: unknown): void;
}

interface OpenChunk {
  from: number;
  to: number;
  span: Span;
  /** The chunk's span as a parent, made once: its items' calls are started under it. */
  within: Context;
  calls: CallSpans;
}

export class ChunkTracing {
  /** The chunks traced here now, by run and batch step (one worker may run several of a batch). */
  private readonly open = new Map<string, OpenChunk[]>();

  constructor(
    private readonly tracer: Tracer,
    private readonly redact: Redactor,
  ) {}

  /** Traces the item calls published on `bus` (the worker's items bus); returns the unsubscribe. */
  attach(bus: EventBus): () => void {
    const offs = [
      bus.on('pipeline.provider.request', (e, at) => {
        const chunk = this.chunkOf(e.runId, e.step);
        chunk?.calls.request(e.step, e, at, () => chunk.within);
      }),
      bus.on('pipeline.provider.response', (e, at) => {
        const chunk = this.chunkOf(e.runId, e.step);
        chunk?.calls.response(e.step, e, at, () => chunk.within);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Starts the span of a chunk job about to run its items here. */
  begin(job: ChunkJob): TracedChunk {
    const { runId, stepKey, from, to } = job.data;
    const span = this.tracer.startSpan(
      `chunk ${stepKey}`,
      {
        // Messaging's span kind for processing a message (the job) that another process produced.
        kind: SpanKind.CONSUMER,
        attributes: {
          [ELEXIRION.runId]: runId,
          [ELEXIRION.step]: stepKey,
          [ELEXIRION.chunkFirstItem]: from,
          [ELEXIRION.chunkLastItem]: to - 1,
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': ITEMS_QUEUE,
          ...(job.id === undefined ? {} : { 'messaging.message.id': job.id }),
        },
      },
      contextOfTraceparent(job.data.traceparent) ?? ROOT_CONTEXT,
    );
    const chunk: OpenChunk = {
      from,
      to,
      span,
      within: trace.setSpan(ROOT_CONTEXT, span),
      calls: new CallSpans(this.tracer, this.redact),
    };
    const key = batchKey(runId, stepKey);
    this.open.set(key, [...(this.open.get(key) ?? []), chunk]);
    let ended = false;
    return {
      end: (error) => {
        if (ended) return;
        ended = true;
        this.end(key, chunk, error);
      },
    };
  }

  private end(key: string, chunk: OpenChunk, error: unknown): void {
    const left = (this.open.get(key) ?? []).filter((open) => open !== chunk);
    if (left.length > 0) this.open.set(key, left);
    else this.open.delete(key);
    const at = Date.now();
    // A chunk stopped mid-call (drained, lost, failed) may never publish that call's answer.
    chunk.calls.endWhere(() => true, CHUNK_UNANSWERED, at);
    if (error !== undefined) {
      const message = error instanceof Error ? error.message : String(error);
      chunk.span.setStatus({ code: SpanStatusCode.ERROR, message: this.redact(message) });
    }
    chunk.span.end(at);
  }

  /**
   * The chunk running item `step` (`fan[3]`) of a run here; the latest begun when two hold it (a
   * given-up flow's chunk finishing its current item beside the next flow's).
   */
  private chunkOf(runId: string, step: string): OpenChunk | undefined {
    const open = step.lastIndexOf('[');
    if (open < 0 || !step.endsWith(']')) return undefined;
    const chunks = this.open.get(batchKey(runId, step.slice(0, open)));
    if (chunks === undefined) return undefined;
    const index = Number(step.slice(open + 1, -1));
    return chunks.findLast((chunk) => index >= chunk.from && index < chunk.to);
  }
}

function batchKey(runId: string, stepKey: string): string {
  return `${runId}\u0000${stepKey}`;
}
