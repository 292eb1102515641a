// Every example is a pipeline users copy: each must load (schema, semantics, templates) and be
// valid under the published JSON Schema, and together they must show every step type.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPipeline } from '../src/config/loader.js';
import { STEP_TYPES, type Step } from '../src/config/schema.js';

const root = join(import.meta.dirname, '..');
const examplesDir = join(root, 'examples');
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const jsonSchema = JSON.parse(readFileSync(join(root, 'schema', 'pipeline.schema.json'), 'utf8')) as object;
const validateJson = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(jsonSchema);

function allSteps(steps: Step[]): Step[] {
  return steps.flatMap((step) => {
    if (step.type === 'parallel') return [step, ...allSteps(step.steps)];
    if (step.type === 'pipeline' && step.pipeline) return [step, ...allSteps(step.pipeline.steps)];
    return [step];
  });
}

describe('examples/', () => {
  it('has at least six pipelines, hello.yaml among them', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples).toContain('hello.yaml');
  });

  it.each(examples)('%s loads without a problem and declares the editor schema', async (file) => {
    const loaded = await loadPipeline(join(examplesDir, file));
    expect(loaded.pipeline.name).toBe(file.replace(/\.yaml$/, ''));
    expect(loaded.source.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/pipeline.schema.json');
  });

  it.each(examples)('%s is valid under schema/pipeline.schema.json', (file) => {
    const data = parse(readFileSync(join(examplesDir, file), 'utf8'), { merge: true });
    const valid = validateJson(data);
    expect(validateJson.errors ?? [], file).toEqual([]);
    expect(valid).toBe(true);
  });

  it('together use every step type, and both forms of the pipeline step', async () => {
    const steps = (await Promise.all(examples.map((f) => loadPipeline(join(examplesDir, f))))).flatMap((l) =>
      allSteps(l.pipeline.steps),
    );
    const used = new Set(steps.map((s) => s.type));
    expect(STEP_TYPES.filter((t) => !used.has(t))).toEqual([]);
    const pipelineSteps = steps.filter((s) => s.type === 'pipeline');
    expect(pipelineSteps.some((s) => s.file !== undefined)).toBe(true);
    expect(pipelineSteps.some((s) => s.pipeline !== undefined)).toBe(true);
  });

  it('hello.yaml runs offline: only mock and set_variable steps, every input has a default', async () => {
    const { pipeline } = await loadPipeline(join(examplesDir, 'hello.yaml'));
    expect(new Set(allSteps(pipeline.steps).map((s) => s.type))).toEqual(new Set(['mock', 'set_variable']));
    expect(Object.values(pipeline.inputs ?? {}).every((input) => input.default !== undefined)).toBe(true);
  });

  const chainLinks = readdirSync(join(examplesDir, 'chain'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  it.each(chainLinks)('chain/%s loads, declares the editor schema and is valid under it', async (file) => {
    const path = join(examplesDir, 'chain', file);
    const loaded = await loadPipeline(path);
    expect(loaded.source.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/pipeline.schema.json');
    const valid = validateJson(parse(readFileSync(path, 'utf8'), { merge: true }));
    expect(validateJson.errors ?? [], file).toEqual([]);
    expect(valid).toBe(true);
  });

  it('a JSON-Schema-invalid pipeline is rejected by the published schema too', () => {
    expect(validateJson({ name: 'x', steps: [{ name: 'a', type: 'claud' }] })).toBe(false);
    expect(validateJson({ name: 'x', steps: [{ name: 'a', type: 'mock', promt: 'hi' }] })).toBe(false);
  });
});
