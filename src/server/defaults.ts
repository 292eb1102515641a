/** Loopback by default: a service reachable from elsewhere is a decision, with a token. */
export const DEFAULT_HOST = '127.0.0.1';
