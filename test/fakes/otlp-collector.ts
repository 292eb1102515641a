// A stand-in OpenTelemetry collector: an HTTP server that keeps the bodies POSTed to /v1/traces
// (OTLP over HTTP, as the exporters send them) and answers 200, for tests that a process exports
// its spans.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpCollector {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** The bodies received at /v1/traces, in order. */
  bodies: string[];
  close(): Promise<void>;
}

export async function otlpCollector(): Promise<OtlpCollector> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
