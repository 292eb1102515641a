// Bearer-token authentication (ELEXIRION_TOKEN). The comparison takes the same time whatever the
// guess, so the token cannot be found one character at a time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-error.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Requires `Authorization: Bearer <token>`; with no token configured every request passes (loopback only). */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token === undefined) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // RFC 9110 §11.6.1: a 401 names the scheme it wants; HTTP clients (and their retry or
    // credential logic) read it from this header, not from the body.
    if (!match) {
      c.header('WWW-Authenticate', 'Bearer realm="elexirion"');
      throw new HttpError(401, 'authentication required', 'send the header `Authorization: Bearer $ELEXIRION_TOKEN`');
    }
    if (!tokenMatches((match[1] as string).trim(), token)) {
      c.header('WWW-Authenticate', 'Bearer realm="elexirion", error="invalid_token"');
      throw new HttpError(401, 'invalid token', 'use the value of ELEXIRION_TOKEN the server was started with');
    }
    return next();
  };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
