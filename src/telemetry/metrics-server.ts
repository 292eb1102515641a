// A small HTTP endpoint for a process that has no API of its own (a cluster worker): GET /metrics,
// the Prometheus text of its registry, and GET /health, a liveness report. node:http, nothing else:
// Prometheus scrapes every process of a cluster, each for what it runs itself.
//
// Guarded as `elexirion serve` guards its own: with a token (ELEXIRION_TOKEN), /metrics needs
// `Authorization: Bearer <token>` (/health stays open, for probes); no page of a browser is
// answered (a request with an `Origin` header is refused: Prometheus and curl send none); and
// without a token, a listener on loopback answers only to loopback names in `Host`, so that a page
// whose own name resolves to 127.0.0.1 (DNS rebinding) cannot read it. Without a token on another
// address it answers anyone who can reach it, as a Prometheus exporter usually does: what it shows
// is counts, names of providers and models, and costs — never prompts, outputs or keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ElexirionError, ExitCode, UsageError } from '../errors.js';
import { isLoopback, tokenMatches } from '../server/auth.js';
import type { Metrics } from './metrics.js';

export interface MetricsEndpointHealth {
  /** Whether the process is fit to go on (503 when not). */
  ok: boolean;
  /** The report, sent as JSON. */
  body: Record<string, unknown>;
}

export interface MetricsServerOptions {
  metrics: Pick<Metrics, 'text' | 'contentType'>;
  health: () => Promise<MetricsEndpointHealth>;
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Required on /metrics when set (empty: none). */
  token?: string;
  /** The flag that chose the port, for errors (default --metrics-port). */
  portFlag?: string;
  hostFlag?: string;
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token === '' ? undefined : options.token;
  const loopbackOnly = token === undefined && isLoopback(host);
  const server = createServer((request, response) => {
    handle(request, response, options, token, loopbackOnly).catch(() => {
      send(response, 500, { error: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw listenError(
      error,
      host,
      options.port,
      options.portFlag ?? '--metrics-port',
      options.hostFlag ?? '--metrics-host',
    );
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () => closeServer(server),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: MetricsServerOptions,
  token: string | undefined,
  loopbackOnly: boolean,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.headers.origin !== undefined) {
    return send(response, 403, {
      error: `cross-origin request refused (Origin: ${request.headers.origin})`,
      hint: 'scrape it from a program (Prometheus, curl), not from a web page',
    });
  }
  if (loopbackOnly && !isLoopback(hostName(request.headers.host ?? ''))) {
    return send(response, 403, {
      error: `request for host ${JSON.stringify(request.headers.host ?? '')} refused: without a token this endpoint answers only to localhost, 127.0.0.1 or [::1]`,
      hint: 'address it as http://127.0.0.1:PORT, or set ELEXIRION_TOKEN to serve other names',
    });
  }
  if (path !== '/metrics' && path !== '/health') {
    return send(response, 404, {
      error: `no such endpoint: ${request.method} ${path}`,
      hint: 'GET /metrics or GET /health',
    });
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return send(response, 405, { error: `${request.method} ${path} is not allowed`, hint: `GET ${path}` });
  }
  if (path === '/health') {
    const report = await options.health();
    return send(response, report.ok ? 200 : 503, report.body);
  }
  if (token !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      return send(response, 401, {
        error: 'authentication required',
        hint: 'send the header `Authorization: Bearer $ELEXIRION_TOKEN`',
      });
    }
    if (!tokenMatches((match[1] as string).trim(), token)) {
      return send(response, 401, {
        error: 'invalid token',
        hint: 'use the value of ELEXIRION_TOKEN the process was started with',
      });
    }
  }
  const text = await options.metrics.text();
  response.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : text);
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** The name part of a Host header: `[::1]:9464` → `[::1]`, `localhost:9464` → `localhost`. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase();
}

/** Stops listening; the connections a scraper keeps open between scrapes are closed too. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function listenError(error: unknown, host: string, port: number, portFlag: string, hostFlag: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ElexirionError(`cannot serve metrics on ${where}: the port is already in use`, {
        exitCode: ExitCode.unavailable,
        cause: error,
        hint: `every worker on one machine needs a port of its own: choose another with ${portFlag} (0 picks a free one)`,
      });
    case 'EACCES':
      return new ElexirionError(`cannot serve metrics on ${where}: permission denied`, {
        exitCode: ExitCode.unavailable,
        cause: error,
        hint: `ports below 1024 need privileges on most systems: choose another with ${portFlag}`,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(
        `cannot serve metrics on ${where}: ${host} is not an address of this machine`,
        `give ${hostFlag} an address of this machine (127.0.0.1, the default; 0.0.0.0 for every interface)`,
      );
    default:
      return error;
  }
}
