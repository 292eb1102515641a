// What a web page in the user's browser must not be able to do to a server on their machine.
// Without a token the loopback address is the only protection, and a browser sits inside it: a
// page can send "simple" cross-origin requests (no preflight: text/plain bodies, no custom
// headers) and, through DNS rebinding (its own name resolving to 127.0.0.1), even read answers.
import type { MiddlewareHandler } from 'hono';
import { isLoopback } from './auth.js';
import { HttpError } from './http-error.js';

/**
 * A request sent by a page of another origin is refused: browsers always send `Origin` on
 * cross-origin requests (and on same-origin POSTs, where it names this server). Clients that are
 * not browsers send none and pass.
 */
export function sameOriginOnly(): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !isOwnOrigin(origin, c.req.header('host'))) {
      throw new HttpError(
        403,
        `cross-origin request refused (Origin: ${origin})`,
        'the API serves its own dashboard page only; call it from a program, or open the dashboard at this server',
      );
    }
    return next();
  };
}

/** Whether `origin` names the host the request was sent to (`null`, or any other host, does not). */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    // Parsed with the origin's scheme, so that a default port (`:80`) compares equal to none.
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}

/**
 * Without a token: only requests addressed to a loopback name. A page that rebinds its own name to
 * 127.0.0.1 still sends that name in `Host`, so it is refused before it can read anything.
 */
export function loopbackHostOnly(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (host === undefined || !isLoopback(hostName(host))) {
      throw new HttpError(
        403,
        `request for host ${JSON.stringify(host ?? '')} refused: without a token this server answers only to localhost, 127.0.0.1 or [::1]`,
        'address it as http://127.0.0.1:PORT (or localhost), or set ELEXIRION_TOKEN to serve other names',
      );
    }
    return next();
  };
}

/** The name part of a Host header: `[::1]:8787` → `[::1]`, `localhost:8787` → `localhost`. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase();
}

/**
 * A request that carries a body must say it is JSON. A page can post `text/plain` across origins
 * without the browser asking first; `application/json` needs a preflight, which this server never
 * grants.
 */
export function jsonBodiesOnly(): MiddlewareHandler {
  return async (c, next) => {
    const length = c.req.header('content-length');
    const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (hasBody && type !== 'application/json') {
      throw new HttpError(
        415,
        `the request body must be JSON, sent with Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`,
        'set the header `Content-Type: application/json`',
      );
    }
    return next();
  };
}
