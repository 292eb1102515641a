// Where a page of GET /runs ended, as the `cursor` that asks for the next one: the last run's start
// and id. The next page begins right after that place, so runs started meanwhile (they go on the first
// page) shift nothing, and no run is listed twice or skipped — which `offset=` could not promise.
// Opaque to the caller (base64url), so that what it holds may change; read back strictly, since it
// comes back in a URL anyone may have edited.
import { decimalInteger } from '../decimal-integer.js';
import type { RunCursor } from '../journal/store.js';

export function encodeRunCursor(run: RunCursor): string {
  return Buffer.from(`${run.startedAt}.${run.id}`, 'utf8').toString('base64url');
}

/** The place `text` names, if it is a cursor encodeRunCursor made; else undefined. */
export function decodeRunCursor(text: string): RunCursor | undefined {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const dot = decoded.indexOf('.');
  const startedAt = decimalInteger(decoded.slice(0, dot));
  const id = decoded.slice(dot + 1);
  if (dot < 0 || startedAt === undefined || !/^[0-9A-Za-z_-]{1,128}$/.test(id)) return undefined;
  // Node's base64url decoder skips what is not base64url: only the text it would have made is taken.
  const cursor = { startedAt, id };
  return encodeRunCursor(cursor) === text ? cursor : undefined;
}
