// The HTTP app: the API, the event streams, /metrics, /health and the dashboard, on Hono.
// Everything but /health and the dashboard page itself needs the bearer token; nothing answers a
// page of another origin, or (without a token) a request addressed to a name that is not loopback.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bearerAuth } from './auth.js';
import { jsonBodiesOnly, loopbackHostOnly, sameOriginOnly } from './browser-guards.js';
import { DASHBOARD_CSP } from './dashboard/csp.js';
import { DASHBOARD_HTML } from './dashboard/page.js';
import { errorResponse, HttpError } from './http-error.js';
import { retryLater } from './retry-after.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { runEventsRoute } from './routes/run-events.js';
import { runRoutes } from './routes/runs.js';
import type { ServerDeps } from './server-deps.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function createApp(deps: ServerDeps): Hono {
  const app = new Hono();
  const maxSize = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  app.onError((error, c) => {
    const response = errorResponse(c, error, deps.redact, deps.relativize);
    // The body says only "internal error" and that the server log has the details: so it must.
    if (response.status >= 500 && !(error instanceof HttpError)) {
      deps.logger?.error(
        { err: error, method: c.req.method, path: c.req.path, status: response.status },
        'elexirion serve: request failed',
      );
    }
    return response;
  });
  app.notFound((c) =>
    errorResponse(
      c,
      new HttpError(404, `no such endpoint: ${c.req.method} ${c.req.path}`, 'see docs/http-api.md'),
      deps.redact,
      deps.relativize,
    ),
  );
  // Every answer, errors included: a browser takes a body for what its content type says — a run's
  // output or a model's text in JSON is never sniffed into HTML and rendered.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
  });
  // First, for every path: a foreign page must not even learn that the server is there.
  app.use('*', sameOriginOnly());
  if (deps.token === undefined) app.use('*', loopbackHostOnly());
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw new HttpError(
          413,
          `the request body is larger than ${maxSize} bytes`,
          'send a smaller pipeline, or reference a file by path',
        );
      },
    }),
  );

  // Every route, the open ones too: a body a page could post without the browser asking first is
  // refused before anything reads it.
  app.use('*', jsonBodiesOnly());
  // Open: a load balancer probes /health; the page holds no data and asks for the token itself.
  app.get('/', (c) => {
    c.header('X-Frame-Options', 'DENY'); // frame-ancestors' older spelling, for older browsers
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    return c.html(DASHBOARD_HTML);
  });
  app.get('/health', async (c) => {
    const report = await deps.health();
    if (report.status !== 'unhealthy') return c.json(report, 200);
    // Out of rotation until it can record runs again: a load balancer or a client probes again later.
    retryLater(c);
    return c.json(report, 503);
  });

  app.use('*', bearerAuth(deps.token));
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.text(), 200, { 'content-type': deps.metrics.contentType }),
  );
  app.get('/runs/:id/events', (c) => runEventsRoute(c, deps));
  app.route('/runs', runRoutes(deps));
  app.route('/pipelines', pipelineRoutes(deps));
  return app;
}
