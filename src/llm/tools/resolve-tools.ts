// Turns the `tools:` of a step into what the loop needs: the specs sent to the model and the
// functions that run the calls — built-ins by name, user tools from a JS module next to the pipeline.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isInsideRoot, outsideRootError } from '../../config/confine.js';
import type { Tool } from '../../config/schema.js';
import { ElexirionError, ExitCode } from '../../errors.js';
import type { ToolSpec } from '../../providers/provider.js';
import { BUILTIN_TOOL_SPECS, builtinTools } from './builtin-tools.js';
import type { ToolImplementation, ToolImplementations } from './tool-types.js';

export interface ResolvedTools {
  specs: ToolSpec[];
  implementations: ToolImplementations;
}

const EMPTY_PARAMETERS = { type: 'object', properties: {} };

/**
 * Resolves declared tools. Built-ins are confined to `workspaceDir` (default: the pipeline's
 * directory); modules are resolved relative to `pipelineDir` and loaded with dynamic import —
 * only from inside `root` when it is set (`serve --root`, LoadedPipeline.root).
 */
export async function resolveTools(
  tools: Tool[] | undefined,
  pipelineDir: string,
  workspaceDir: string = pipelineDir,
  root?: string,
): Promise<ResolvedTools> {
  const specs: ToolSpec[] = [];
  const implementations: Record<string, ToolImplementation> = {};
  let builtins: ReturnType<typeof builtinTools> | undefined;
  for (const tool of tools ?? []) {
    if (typeof tool === 'string' || (!tool.module && tool.name in BUILTIN_TOOL_SPECS)) {
      const name = (typeof tool === 'string' ? tool : tool.name) as keyof typeof BUILTIN_TOOL_SPECS;
      builtins ??= builtinTools(workspaceDir);
      const spec = BUILTIN_TOOL_SPECS[name];
      specs.push(typeof tool === 'string' ? spec : { ...spec, description: tool.description });
      implementations[name] = builtins[name];
      continue;
    }
    if (!tool.module) {
      throw new ElexirionError(`tool "${tool.name}" has no implementation`, {
        exitCode: ExitCode.invalidInput,
        hint: `add \`module: ./tools.js\` (a JS module next to the pipeline exporting ${tool.name}), or use a built-in: ${Object.keys(BUILTIN_TOOL_SPECS).join(', ')}`,
      });
    }
    implementations[tool.name] = await loadModuleTool(
      tool.name,
      tool.module,
      tool.export ?? tool.name,
      pipelineDir,
      root,
    );
    specs.push({ name: tool.name, description: tool.description, parameters: tool.parameters ?? EMPTY_PARAMETERS });
  }
  return { specs, implementations };
}

async function loadModuleTool(
  name: string,
  module: string,
  exportName: string,
  pipelineDir: string,
  root: string | undefined,
): Promise<ToolImplementation> {
  const path = resolve(pipelineDir, module);
  // The load already refused such a module; checked again here, where the code would run.
  if (root !== undefined && !isInsideRoot(root, path)) {
    throw outsideRootError(`tool "${name}": module ${module}`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ElexirionError(`tool "${name}": cannot load module ${module}: ${(err as Error).message}`, {
      exitCode: ExitCode.invalidInput,
      hint: `the path is relative to the pipeline file (${path}); it must be a JavaScript (ESM) module`,
      cause: err,
    });
  }
  const fn = loaded[exportName];
  if (typeof fn !== 'function') {
    const exported = Object.keys(loaded).filter((k) => typeof loaded[k] === 'function');
    throw new ElexirionError(`tool "${name}": module ${module} has no function export "${exportName}"`, {
      exitCode: ExitCode.invalidInput,
      hint: exported.length
        ? `its function exports are: ${exported.join(', ')} (set \`export:\`)`
        : 'export a function (args) => result',
    });
  }
  return fn as ToolImplementation;
}
