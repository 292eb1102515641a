// /runs: submit a run (a pipeline file inside the allowed root, or inline YAML), list (runs-list.ts),
// show, cancel and resume runs. A submission answers 202 with the run id as soon as the run is journaled.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { z } from 'zod';
import { rehintMissingInputs } from '../../config/inputs.js';
import { PipelineLoadCache } from '../../config/load-cache.js';
import { loadPipeline, loadPipelineFromString } from '../../config/loader.js';
import { CONFINED_ROOT_KEY } from '../../engine/confined-root.js';
import { RunStillEndingError, RunStillRunningError } from '../../engine/errors.js';
import { normalizeRunId } from '../../engine/run-id.js';
import { ConfigError, UsageError } from '../../errors.js';
import type { RunRecord } from '../../journal/store.js';
import { confinePath } from '../confine-path.js';
import { HttpError } from '../http-error.js';
import { checkInlineProviders } from '../inline-providers.js';
import { httpKeyHint } from '../key-hint.js';
import type { ServerDeps } from '../server-deps.js';
import { outgoing } from './outgoing.js';
import { listRuns } from './runs-list.js';

const SubmitRun = z
  .object({
    file: z.string().min(1).optional(),
    yaml: z.string().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).optional(),
    mock: z.boolean().optional(),
    /** Stream LLM steps: their output arrives as `pipeline.step.chunk` events. */
    stream: z.boolean().optional(),
    max_cost_usd: z.number().positive().optional(),
    max_tokens: z.number().int().positive().optional(),
  })
  .strict()
  .refine((b) => (b.file === undefined) !== (b.yaml === undefined), {
    message: 'give exactly one of `file` (a path inside the pipelines directory) or `yaml` (the pipeline text)',
  });

/** The name inline pipelines are known by: inside the root (relative paths resolve there), never a real file. */
export const INLINE_FILE = '(inline).yaml';

export function runRoutes(deps: ServerDeps): Hono {
  const { engine } = deps;
  // Submissions name the same few files again and again: each is read every time, and loaded and
  // checked again only when it (or a file it runs or names) has changed (load-cache.ts).
  const pipelines = deps.pipelines ?? new PipelineLoadCache();
  const app = new Hono();

  app.post('/', async (c) => {
    const body = SubmitRun.safeParse(await readJson(c.req.raw));
    if (!body.success) {
      const issue = body.error.issues[0];
      const where = issue?.path.length ? ` at \`${issue.path.join('.')}\`` : '';
      throw new HttpError(
        400,
        `invalid run request${where}: ${issue?.message ?? 'bad body'}`,
        'send JSON like {"file": "examples/hello.yaml", "inputs": {"name": "Ada"}, "mock": true}',
      );
    }
    const { file, yaml, inputs, mock, stream, max_cost_usd, max_tokens } = body.data;
    // Confined to the root: the files the pipeline names (`file:` steps, tool modules) too.
    const confined = { root: deps.root };
    const loaded =
      file !== undefined
        ? await pipelines.load(confinePath(deps.root, file), confined)
        : loadPipelineFromString(yaml as string, join(deps.root, INLINE_FILE), confined);
    // The inline pipeline is the token holder's, not the operator's: its providers are held to the policy.
    if (file === undefined) checkInlineProviders(loaded, deps.inlineProviders);
    const start = {
      ...(inputs ? { inputs } : {}),
      ...(mock === undefined ? {} : { mock }),
      ...(stream === undefined ? {} : { stream }),
      ...(max_cost_usd === undefined ? {} : { maxCostUsd: max_cost_usd }),
      ...(max_tokens === undefined ? {} : { maxTokens: max_tokens }),
      // Recorded with the run: a resume reloads its pipeline, and must stay inside the root too.
      metadata: { source: 'http', [CONFINED_ROOT_KEY]: deps.root },
    };
    const { remote } = deps;
    if (remote) {
      // serve --cluster: journaled and enqueued; a worker runs it.
      const runId = await admit(deps, () => remote.submit(loaded, start)).catch((error: unknown) => {
        throw inputsError(error);
      });
      return c.json({ run_id: runId, status: 'queued', pipeline: loaded.pipeline.name }, 202);
    }
    const handle = await admit(deps, () => engine.start(loaded, start)).catch((error: unknown) => {
      throw inputsError(error);
    });
    return c.json({ run_id: handle.runId, status: 'running', pipeline: loaded.pipeline.name }, 202);
  });

  app.get('/', (c) => listRuns(c, deps));

  app.get('/:id', async (c) => {
    const id = normalizeRunId(c.req.param('id'));
    await requireRun(deps, id);
    return c.json(outgoing(deps, await engine.result(id)));
  });

  app.post('/:id/cancel', async (c) => {
    const id = normalizeRunId(c.req.param('id'));
    const run = await requireRun(deps, id);
    if (deps.remote) {
      const outcome = await deps.remote.cancel(id);
      if (outcome) return c.json({ run_id: id, status: outcome }, outcome === 'cancelled' ? 200 : 202);
    } else if (engine.stop(id, 'cancelled')) {
      return c.json({ run_id: id, status: 'cancelling' }, 202);
    }
    throw new HttpError(
      409,
      `run ${id} is not running ${deps.remote ? 'on the cluster' : 'here'} (its status is ${run.status})`,
      deps.remote ? 'only a queued or active run can be cancelled' : 'only an active run can be cancelled',
    );
  });

  app.post('/:id/resume', async (c) => {
    const id = normalizeRunId(c.req.param('id'));
    await checkResumeConfined(deps, await requireRun(deps, id));
    let runId = id;
    try {
      const { remote } = deps;
      if (remote) await admit(deps, () => remote.resume(id));
      else runId = (await admit(deps, () => engine.resume(id))).runId;
    } catch (error) {
      // The process still running it is this server: "stop that process first" would mean stopping the server.
      if (!deps.remote && error instanceof RunStillRunningError && !(error instanceof RunStillEndingError)) {
        if (await runningHere(deps, id)) {
          throw new HttpError(
            409,
            `run ${id} is still running in this server`,
            `wait for it to end, or cancel it first (POST /runs/${id}/cancel); then resume it`,
          );
        }
      }
      // Already succeeded, still running, or the pipeline changed: the run's state forbids it.
      if (error instanceof UsageError) {
        throw new HttpError(409, error.message, (error as { hint?: string }).hint);
      }
      throw error;
    }
    return c.json({ run_id: runId, status: deps.remote ? 'queued' : 'running' }, 202);
  });

  return app;
}

/**
 * Whether a resume refused as "still running" was refused for this server's own execution of the
 * run: active here, or journaled as this process's (a resume of it by another request, under way).
 */
async function runningHere(deps: ServerDeps, runId: string): Promise<boolean> {
  if (deps.engine.isActive(runId)) return true;
  const { pid, host } = ((await deps.engine.store.getRun(runId))?.metadata ?? {}) as { pid?: unknown; host?: unknown };
  return pid === process.pid && host === hostname();
}

/** Starts a run through the server's admissions (none when the app is used without a service). */
function admit<T>(deps: ServerDeps, start: () => Promise<T>): Promise<T> {
  return deps.admissions ? deps.admissions.admit(start) : start();
}

export async function requireRun(deps: ServerDeps, id: string) {
  const run = await deps.engine.store.getRun(id);
  if (!run) throw new HttpError(404, `no run with id ${id}`, 'list runs with GET /runs');
  return run;
}

/**
 * Loads what a resume would run, confined to the root: the engine reloads the run's pipeline file
 * (or its journaled document, when the file is gone) without that option, and a run started
 * elsewhere — by the CLI, or before its files changed — must not lead outside the root either.
 */
async function checkResumeConfined(deps: ServerDeps, run: RunRecord): Promise<void> {
  const file = run.pipelineFile;
  if (file !== undefined) {
    try {
      confinePath(deps.root, file);
    } catch {
      throw new HttpError(
        403,
        `run ${run.id} runs the pipeline file ${file}, which is outside the pipelines directory`,
        'resume it with `elexirion resume` on the machine it was started on',
      );
    }
  }
  const confined = { root: deps.root };
  if (file !== undefined) {
    try {
      await loadPipeline(file, confined);
      return;
    } catch (error) {
      if (!(error instanceof ConfigError && error.diagnostics[0]?.message === 'no such file')) throw error;
    }
  }
  const stored = loadPipelineFromString(JSON.stringify(run.pipeline), file ?? `${run.pipelineName}.yaml`, confined);
  // No file to read (a pipeline sent inline, or a file since removed): the journaled document is not
  // the operator's to vouch for, so its providers meet the policy of inline pipelines.
  checkInlineProviders(stored, deps.inlineProviders);
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') throw new HttpError(400, 'the request body is empty', 'send a JSON object');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(
      400,
      'the request body is not valid JSON',
      'send a JSON object with Content-Type: application/json',
    );
  }
}

/**
 * What a start refused for its inputs answers: the pipeline was loaded and checked before, so
 * diagnostics about `inputs.*` are the request's `inputs` — a 422 of its own, not "the pipeline is
 * invalid". Any other error is left as it is.
 */
function inputsError(error: unknown): unknown {
  const rehinted = rehintMissingInputs(httpKeyHint(error), httpInputHint);
  if (!(rehinted instanceof ConfigError)) return rehinted;
  const { diagnostics } = rehinted;
  if (diagnostics.length === 0 || !diagnostics.every((d) => d.path.startsWith('inputs.'))) return rehinted;
  return new HttpError(
    422,
    "the run's inputs are invalid",
    'fix the `inputs` of the request: `diagnostics` lists the problems, one per input',
    diagnostics,
  );
}

/** Over HTTP an input is not given with --input: the hint names the request's own field. */
function httpInputHint(name: string): string {
  return `pass it in the request body: "inputs": { "${name}": VALUE }`;
}
