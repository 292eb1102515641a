// Before a chain spends anything: every link loads, every input given on the command line is read
// by some link and has the type each link that reads it declares, and every link's required inputs
// are produced by the link before it (its declared `outputs`) or given. A chain that cannot work
// fails here, not at link 3 after two paid runs.
import { basename } from 'node:path';
import { resolveInputs } from '../config/inputs.js';
import { type LoadedPipeline, loadPipeline } from '../config/loader.js';
import { UsageError } from '../errors.js';

export interface ChainLink {
  /** 1-based position. */
  link: number;
  of: number;
  file: string;
  loaded: LoadedPipeline;
}

export function linkName(link: { link: number; of: number; file: string }): string {
  return `link ${link.link} of ${link.of} (${basename(link.file)})`;
}

export async function planChain(files: string[], given: Record<string, unknown>, cwd: string): Promise<ChainLink[]> {
  if (files.length === 0)
    throw new UsageError('a chain needs at least one pipeline file', 'elexirion chain a.yaml b.yaml');
  const links: ChainLink[] = [];
  for (const [i, file] of files.entries()) {
    links.push({ link: i + 1, of: files.length, file, loaded: await loadPipeline(file, { cwd }) });
  }
  const declared = (l: ChainLink) => l.loaded.pipeline.inputs ?? {};
  for (const name of Object.keys(given)) {
    if (!links.some((l) => Object.hasOwn(declared(l), name))) {
      throw new UsageError(
        `input "${name}" is declared by no pipeline of the chain`,
        'each --input goes to every link that declares it; check its spelling',
      );
    }
  }
  for (const link of links) checkGivenTypes(link.loaded, given);
  for (const [i, link] of links.entries()) {
    const previous = links[i - 1];
    if (!previous) continue; // the first link's inputs are checked when it starts, with positions
    const produced = Object.keys(previous.loaded.pipeline.outputs ?? {});
    for (const [name, input] of Object.entries(declared(link))) {
      if (input.required !== true || produced.includes(name) || Object.hasOwn(given, name)) continue;
      throw new UsageError(
        `${linkName(link)} requires input "${name}", which ${linkName(previous)} does not output`,
        `add \`${name}:\` to the outputs of ${basename(previous.file)}, or pass --input ${name}=VALUE`,
      );
    }
  }
  return links;
}

/**
 * The given inputs a link declares, read as their declared types (with their positions in the
 * link's file on failure: exit 2). Whether its required ones are all there is not asked here: the
 * link before may produce them.
 */
function checkGivenTypes(loaded: LoadedPipeline, given: Record<string, unknown>): void {
  const declared = loaded.pipeline.inputs ?? {};
  const optional = Object.fromEntries(
    Object.entries(declared).map(([name, input]) => [name, { ...input, required: false }]),
  );
  resolveInputs(
    { ...loaded, pipeline: { ...loaded.pipeline, inputs: optional } },
    linkInputs(loaded, given, undefined),
  );
}

/**
 * The inputs of a link: the given ones it declares, then the previous link's outputs it declares
 * (they win). Outputs the link does not declare are not passed on. A null output (a skipped
 * step's) is an input not given: it does not replace a given one, whose value the link then gets —
 * else the link's `default:` would apply in place of what was given.
 */
export function linkInputs(
  link: LoadedPipeline,
  given: Record<string, unknown>,
  previousOutputs: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const declared = link.pipeline.inputs ?? {};
  const inputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) if (Object.hasOwn(declared, name)) inputs[name] = value;
  for (const [name, value] of Object.entries(previousOutputs ?? {})) {
    if (!Object.hasOwn(declared, name)) continue;
    if ((value === null || value === undefined) && Object.hasOwn(inputs, name)) continue;
    inputs[name] = value;
  }
  return inputs;
}

/**
 * The required inputs of `link` that the link before output as null (a skipped or failed step's
 * output) and no --input gives: why the link cannot start. Its own message ("missing required input
 * …, pass it with --input") does not say that the value came from the link before, and a resumed
 * chain takes --input no more than it runs that succeeded link again.
 */
export function requiredInputsOutputAsNull(
  link: LoadedPipeline,
  given: Record<string, unknown>,
  previousOutputs: Record<string, unknown> | undefined,
): string[] {
  const declared = link.pipeline.inputs ?? {};
  return Object.entries(declared)
    .filter(([name, input]) => input.required === true && !Object.hasOwn(given, name))
    .filter(([name]) => previousOutputs !== undefined && Object.hasOwn(previousOutputs, name))
    .filter(([name]) => previousOutputs?.[name] === null || previousOutputs?.[name] === undefined)
    .map(([name]) => name);
}
