// The directory built-in tools may read. A path the model gives is refused unless it stays inside:
// no absolute paths, no `..` out of it, and no symlink whose real target lies outside.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ToolError } from './tool-types.js';

export class Workspace {
  private realRoot: Promise<string> | undefined;

  constructor(readonly root: string) {}

  /** The real path of `requested` inside the workspace; throws a ToolError when it escapes. */
  async resolve(requested: unknown): Promise<string> {
    if (typeof requested !== 'string' || requested.trim() === '')
      throw new ToolError('path must be a non-empty string');
    if (isAbsolute(requested) || /^[a-zA-Z]:[\\/]/.test(requested)) {
      throw new ToolError(`refused: "${requested}" is an absolute path; give a path relative to the workspace`);
    }
    const root = await this.realRootPath();
    const lexical = resolve(root, requested);
    if (!inside(root, lexical)) throw new ToolError(`refused: "${requested}" is outside the workspace`);
    let real: string;
    try {
      real = await realpath(lexical);
    } catch {
      throw new ToolError(`no such file or directory: ${requested}`);
    }
    if (!inside(root, real)) throw new ToolError(`refused: "${requested}" leads outside the workspace`);
    return real;
  }

  /** A path relative to the workspace root, with forward slashes, for answers to the model. */
  async display(real: string): Promise<string> {
    return (
      relative(await this.realRootPath(), real)
        .split(sep)
        .join('/') || '.'
    );
  }

  async realRootPath(): Promise<string> {
    this.realRoot ??= realpath(this.root);
    return this.realRoot;
  }
}

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  // `..notes.txt` is a name inside the workspace: only a whole `..` segment leaves it.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
