// The built-in tools: read_file and list_files, confined to a workspace directory and bounded in
// what they return (a model's context is not a place for a 2 GB log).
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ToolSpec } from '../../providers/provider.js';
import { ToolError, type ToolImplementation } from './tool-types.js';
import { Workspace } from './workspace.js';

// Below the tool result bound (TOOL_RESULT_MAX_CHARS, run-llm-call.ts) with room for its note: cut
// there instead, the note saying how large the file really is would be cut off.
export const READ_FILE_MAX_BYTES = 96 * 1024;
export const LIST_FILES_MAX_ENTRIES = 1000;

export const BUILTIN_TOOL_SPECS: Readonly<Record<'read_file' | 'list_files', ToolSpec>> = {
  read_file: {
    name: 'read_file',
    description: 'Read a UTF-8 text file of the workspace. Paths are relative to the workspace root.',
    parameters: {
      type: 'object',
      properties: { path: { type: 'string', description: 'File path relative to the workspace root' } },
      required: ['path'],
      additionalProperties: false,
    },
  },
  list_files: {
    name: 'list_files',
    description:
      'List the files of a workspace directory (directories end with /). Paths are relative to the workspace root.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Directory relative to the workspace root (default: the root)' },
        recursive: { type: 'boolean', description: 'Also list subdirectories' },
      },
      additionalProperties: false,
    },
  },
};

export function builtinTools(workspaceDir: string): Record<'read_file' | 'list_files', ToolImplementation> {
  const workspace = new Workspace(workspaceDir);
  return {
    read_file: async (args) => {
      const path = await workspace.resolve(args.path);
      const info = await lstat(path);
      if (!info.isFile()) throw new ToolError(`not a file: ${String(args.path)}`);
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(info.size, READ_FILE_MAX_BYTES));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        const text = buffer.subarray(0, bytesRead).toString('utf8');
        return info.size > READ_FILE_MAX_BYTES
          ? `${text}\n[truncated: showing ${READ_FILE_MAX_BYTES} of ${info.size} bytes]`
          : text;
      } finally {
        await handle.close();
      }
    },
    list_files: async (args) => {
      const dir = await workspace.resolve(args.path ?? '.');
      if (!(await lstat(dir)).isDirectory()) throw new ToolError(`not a directory: ${String(args.path)}`);
      const out: string[] = [];
      await walk(dir, args.recursive === true, out);
      const shown = await Promise.all(out.slice(0, LIST_FILES_MAX_ENTRIES).map((p) => displayEntry(workspace, p)));
      if (out.length > LIST_FILES_MAX_ENTRIES)
        shown.push(`[truncated: ${LIST_FILES_MAX_ENTRIES} of ${out.length}+ entries]`);
      return shown.join('\n');
    },
  };
}

/** Collects entries; symlinks are listed by name but never followed (their targets may lie outside). */
async function walk(dir: string, recursive: boolean, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (out.length > LIST_FILES_MAX_ENTRIES) return;
    const full = join(dir, entry.name);
    out.push(entry.isDirectory() ? `${full}/` : full);
    if (recursive && entry.isDirectory()) await walk(full, true, out);
  }
}

async function displayEntry(workspace: Workspace, path: string): Promise<string> {
  const isDir = path.endsWith('/');
  const shown = await workspace.display(isDir ? path.slice(0, -1) : path);
  return isDir ? `${shown}/` : shown;
}
