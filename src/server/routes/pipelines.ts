// GET /pipelines: the pipeline files under the allowed root, for the dashboard's "start a run" form.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Hono } from 'hono';
import type { ServerDeps } from '../server-deps.js';

const MAX_DEPTH = 3;
const MAX_FILES = 500;

export function pipelineRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  // Named relative to the root, which is not shown: where the server's files live is not the caller's business.
  app.get('/', async (c) => c.json({ files: await listPipelineFiles(deps.root) }));
  return app;
}

export async function listPipelineFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function visit(dir: string, depth: number): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= MAX_FILES) return;
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) await visit(path, depth + 1);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) found.push(relative(root, path));
    }
  }
  await visit(root, 0);
  return found;
}
