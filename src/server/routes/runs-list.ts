// GET /runs: the journal's runs, newest first, a page at a time. Each page ends with `next` (and a
// Link header) when there are more: the cursor of its last run (run-cursor.ts), from which the next
// page goes on — never an offset, which runs started meanwhile would shift.
import type { Context } from 'hono';
import { decimalInteger } from '../../decimal-integer.js';
import { RUN_STATUSES, type RunStatus } from '../../journal/store.js';
import { HttpError } from '../http-error.js';
import { checkQueryParams } from '../query-params.js';
import { decodeRunCursor, encodeRunCursor } from '../run-cursor.js';
import { runSummary } from '../run-summary.js';
import type { ServerDeps } from '../server-deps.js';
import { outgoing } from './outgoing.js';

const STATUSES = RUN_STATUSES;

export async function listRuns(c: Context, deps: ServerDeps): Promise<Response> {
  const { engine } = deps;
  checkQueryParams(c, ['limit', 'status', 'cursor'], 'GET /runs?limit=20&status=failed');
  const given = c.req.query('limit') ?? '50';
  // Digits only (decimal-integer.ts): `0x10`, `1e2` or ` 5` is not a limit anyone meant.
  const limit = decimalInteger(given);
  if (limit === undefined || limit < 1 || limit > 1000) {
    throw new HttpError(400, '`limit` must be an integer from 1 to 1000', 'e.g. GET /runs?limit=20');
  }
  const status = c.req.query('status');
  if (status !== undefined && !STATUSES.includes(status as RunStatus)) {
    throw new HttpError(400, `unknown status "${status}"`, `use one of ${STATUSES.join(', ')}`);
  }
  const cursor = c.req.query('cursor');
  const before = cursor === undefined ? undefined : decodeRunCursor(cursor);
  if (cursor !== undefined && before === undefined) {
    throw new HttpError(
      400,
      '`cursor` is not one this server gave',
      'send the `next` of the previous page as it came (or the URL of its Link header)',
    );
  }
  // One more than the page: whether there is a next page, without a count of the whole journal.
  const listed = await engine.store.listRuns({
    limit: limit + 1,
    ...(status ? { status: status as RunStatus } : {}),
    ...(before ? { before } : {}),
  });
  const runs = listed.slice(0, limit);
  const last = runs.at(-1);
  const next = listed.length > limit && last ? encodeRunCursor(last) : undefined;
  const summaries = await Promise.all(runs.map((run) => runSummary(engine.store, run)));
  if (next !== undefined) {
    const query = new URLSearchParams({
      ...(c.req.query('limit') === undefined ? {} : { limit: String(limit) }),
      ...(status ? { status } : {}),
      cursor: next,
    });
    c.header('Link', `</runs?${query}>; rel="next"`);
  }
  // Through the redactor, as the event stream is: an output or error may carry a secret's value.
  // Not `next`: a start time and a run id, which a pattern for keys must not mangle.
  return c.json({ ...outgoing(deps, { runs: summaries }), ...(next === undefined ? {} : { next }) });
}
