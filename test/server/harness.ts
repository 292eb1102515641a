// A real service on 127.0.0.1 (port 0) over an in-memory journal, with a pipelines directory.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { type Service, type ServiceOptions, startService } from '../../src/server/service.js';

export const TOKEN = 'test-token-0123456789';

/** Three mock steps, `latency` each, streaming their answers. */
export function slowPipeline(latency = '50ms', name = 'slow'): string {
  return `name: ${name}
inputs:
  topic: { type: string, default: otters }
steps:
  - name: outline
    type: mock
    prompt: "Outline {{ topic }}"
    response: "An outline of {{ topic }} in three parts"
    latency: ${latency}
  - name: draft
    type: mock
    prompt: "Draft from {{ steps.outline.output }}"
    response: "A draft about {{ topic }}"
    latency: ${latency}
  - name: polish
    type: mock
    prompt: "Polish {{ steps.draft.output }}"
    response: "A polished text about {{ topic }}"
    latency: ${latency}
outputs:
  text: "{{ steps.polish.output }}"
`;
}

export interface Harness {
  service: Service;
  root: string;
  store: SqliteStore;
  /** fetch against the service with the token (unless `auth: false`). */
  call(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<ServiceOptions> = {}): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), 'elexirion-serve-'));
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(join(root, 'pipelines', 'slow.yaml'), slowPipeline());
  writeFileSync(join(root, 'pipelines', 'very-slow.yaml'), slowPipeline('1s', 'very-slow'));
  const store = new SqliteStore(':memory:');
  const service = await startService({
    store,
    root,
    port: 0,
    token: TOKEN,
    env: { ELEXIRION_TOKEN: TOKEN },
    ...options,
  });
  return {
    service,
    root,
    store,
    call: (path, init = {}) => {
      const { auth = true, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth) headers.set('authorization', `Bearer ${TOKEN}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${service.url}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { method: rest.method ?? 'POST', body: JSON.stringify(json) } : {}),
      });
    },
    close: async () => {
      await service.shutdown(2000);
      await store.close();
    },
  };
}

/** Reads a server-sent event stream to its end: [{id, event, data}]. */
export async function readSse(response: Response): Promise<{ id?: string; event?: string; data: unknown }[]> {
  const text = await response.text();
  return parseSse(text);
}

/** The seq an event stream's `id:` names (`SEQ@START-AT`, or a plain seq): routes/event-id.ts. */
export function seqOf(id: string | undefined): number {
  return Number(id?.split('@')[0]);
}

export function parseSse(text: string): { id?: string; event?: string; data: unknown }[] {
  const events: { id?: string; event?: string; data: unknown }[] = [];
  for (const block of text.split('\n\n')) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const m = /^([a-z]+): ?(.*)$/.exec(line);
      if (m)
        fields[m[1] as string] =
          fields[m[1] as string] === undefined ? (m[2] as string) : `${fields[m[1] as string]}\n${m[2]}`;
    }
    if (fields.data !== undefined) {
      events.push({
        ...(fields.id !== undefined ? { id: fields.id } : {}),
        ...(fields.event !== undefined ? { event: fields.event } : {}),
        data: JSON.parse(fields.data),
      });
    }
  }
  return events;
}

export async function waitForStatus(h: Harness, runId: string, status: string, timeoutMs = 10_000): Promise<RunResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await (await h.call(`/runs/${runId}`)).json()) as RunResult;
    if (run.status === status) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
