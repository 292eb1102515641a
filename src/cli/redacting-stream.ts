// The CLI's stdout and stderr, redacted: every command writes there — outputs of runs (a model may
// have quoted a secret), `runs show` of runs journaled by any version, errors and hints, JSON or
// not — so one writer covers every sink, whatever a command prints and however it builds it.
import { StringDecoder } from 'node:string_decoder';
import type { Redactor } from '../telemetry/redact.js';

type Writable = NodeJS.WritableStream;

/**
 * `stream` with each write redacted; everything else (isTTY, columns, events) is the stream's own.
 * Its `write` is looked up at each call: a launcher may replace it (bin/elexirion.js on EPIPE).
 */
export function redactingStream<S extends Writable>(stream: S, redact: Redactor): S {
  // Bytes decoded across writes: a character split between two of them is not mangled.
  const decoder = new StringDecoder('utf8');
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk));
    return (stream.write as (chunk: string, ...rest: unknown[]) => boolean)(redact(text), ...rest);
  };
  return new Proxy(stream, {
    get(target, property) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, target);
      // Methods run on the stream itself: its internals live there, not on the proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
