// Server-sent events as the vendors send them: `event:` (optional) and `data:` lines, blank line between.
import type { ServerResponse } from 'node:http';

export interface SseEvent {
  event?: string;
  /** A JSON value, or a raw string written as is (`[DONE]`, deliberately malformed JSON). */
  data: unknown;
}

export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  res.flushHeaders();
}

export function formatSse(e: SseEvent): string {
  const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
  return `${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`;
}
