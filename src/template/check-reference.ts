// The load-time rules for one variable a template reads: is it in the scope the template will
// have when it is rendered? Each rule answers with what is wrong and what to do instead.
import type { Reference } from './references.js';
import { BATCH_ITEM_NAMES, BUILTIN_NAMES, RUN_FIELDS, STEP_FIELDS } from './scope.js';
import { type ReaderPlace, type StepOrder, type StepPlace, type Visibility, visibility } from './step-order.js';
import { didYouMean } from './suggest.js';

/** What a template at one place in one pipeline may read. */
export interface ReadContext {
  reader: ReaderPlace;
  order: StepOrder;
  inputs: ReadonlySet<string>;
  rootVariables: ReadonlySet<string>;
}

export interface ReferenceProblem {
  message: string;
  hint?: string;
}

type Problem = ReferenceProblem | undefined;

export function checkReference(reference: Reference, context: ReadContext): Problem {
  const [head, field, subfield] = reference.path;
  const name = field === undefined ? undefined : String(field);
  switch (head) {
    case 'steps':
      return name === undefined ? undefined : checkStep(name, subfield, context, reference.path[3]);
    case 'inputs':
      return name === undefined ? undefined : checkInput(name, context);
    case 'variables':
      return name === undefined ? undefined : checkVariable(name, context, 'variable');
    case 'run':
      return name === undefined || (RUN_FIELDS as readonly string[]).includes(name)
        ? undefined
        : { message: `run has no field "${name}"`, hint: didYouMean(name, RUN_FIELDS, 'run has id and pipeline') };
    case 'item':
    case 'index':
      return inBatchTemplate(context)
        ? undefined
        : {
            message: `"${head}" exists only inside the step_template of a batch step`,
            // An input (or variable) of that name is read with its prefix: the bare name is the batch's.
            hint: context.inputs.has(head)
              ? `the input "${head}" is read as inputs.${head} ("${head}" alone is a batch item's), or rename it`
              : 'a batch step (type: batch or claude_batch) maps its step_template over items; item is the current one',
          };
    default:
      return checkTopLevelName(String(head), context);
  }
}

function checkStep(
  name: string,
  field: string | number | undefined,
  context: ReadContext,
  key: string | number | undefined,
): Problem {
  const target = context.order.places.get(name);
  if (target === undefined) {
    const names = [...context.order.places.keys()];
    return {
      message: `unknown step "${name}"`,
      hint: didYouMean(name, names, `the steps of this pipeline are: ${names.join(', ')}`),
    };
  }
  const seen = visibility(context.reader, target);
  if (!seen.readable) return invisibleStep(name, target, seen.why);
  if (field !== undefined && !(STEP_FIELDS as readonly (string | number)[]).includes(field)) {
    const fields = STEP_FIELDS.join(', ');
    return {
      message: `steps.${name} has no field "${field}"`,
      hint: didYouMean(String(field), STEP_FIELDS, `a step has ${fields}; its result is steps.${name}.output`),
    };
  }
  if (field === 'output' && key !== undefined && target.outputs && !target.outputs.includes(String(key))) {
    const outputs = target.outputs;
    return {
      message: `pipeline step "${name}" has no output "${key}" (not among the outputs its pipeline declares)`,
      hint: didYouMean(
        String(key),
        outputs,
        outputs.length > 0
          ? `its outputs are: ${outputs.join(', ')}`
          : 'the child pipeline declares no outputs: add them under its `outputs:`',
      ),
    };
  }
  return undefined;
}

function invisibleStep(name: string, target: StepPlace, why: Exclude<Visibility, { readable: true }>['why']) {
  switch (why) {
    case 'self':
      return {
        message: `step "${name}" cannot read its own result`,
        hint: 'a template can read only steps that finished before its step started',
      };
    case 'later':
      return {
        message: `step "${name}" runs after this one; only earlier steps can be read`,
        hint: `move "${name}" before this step, or read it from a later step or from outputs`,
      };
    case 'concurrent':
      return {
        message: `step "${name}" runs at the same time as this one (parallel group "${target.groups[0]}"); only steps that finished before the group can be read`,
        hint: `move "${name}" out of the group, before it`,
      };
    case 'enclosing':
      return {
        message: `step "${name}" is the parallel group this step belongs to; it finishes after this step`,
        hint: 'read the group from a step after it',
      };
    case 'inside':
      return {
        message: `step "${name}" is part of this step and has not run yet when this template is read`,
        hint: 'read it from a step after this one',
      };
    case 'before-steps':
      return {
        message: `root variables are set before any step runs, so they cannot read steps.${name}`,
        hint: `set the variable with a set_variable step after "${name}"`,
      };
  }
}

function checkInput(name: string, context: ReadContext): Problem {
  if (context.inputs.has(name)) return undefined;
  return {
    message: `unknown input "${name}"`,
    hint: didYouMean(name, context.inputs, `declare it under inputs: (e.g. ${name}: { type: string })`),
  };
}

function checkVariable(name: string, context: ReadContext, kind: 'variable' | 'name'): Problem {
  if (context.reader.kind === 'root-variables') {
    return {
      message: `root variables cannot read other variables ("${name}")`,
      hint: 'root variables may read inputs and run; use a set_variable step to derive one variable from another',
    };
  }
  if (variableIsVisible(name, context)) return undefined;
  const setter = context.order.setters.get(name)?.[0];
  if (setter !== undefined && context.reader.kind === 'step') {
    const seen = visibility(context.reader, setter);
    const when =
      !seen.readable && seen.why === 'self'
        ? 'this step itself sets it; it is visible only to later steps'
        : !seen.readable && seen.why === 'concurrent'
          ? `step "${setter.name}" sets it at the same time as this one runs (parallel group "${setter.groups[0]}")`
          : `step "${setter.name}" sets it, and runs after this one`;
    return {
      message: `variable "${name}" is not set yet: ${when}`,
      hint: `a variable set by set_variable is visible only to steps after "${setter.name}"`,
    };
  }
  const visible = visibleVariables(context);
  return {
    message: kind === 'variable' ? `unknown variable "${name}"` : `unknown name "${name}"`,
    hint: didYouMean(
      name,
      kind === 'variable' ? visible : [...namesInScope(context), ...visible],
      kind === 'variable'
        ? 'declare it under variables: or set it with a set_variable step'
        : context.order.places.has(name)
          ? `to read the step "${name}", write steps.${name}.output`
          : 'declare it under inputs: or variables:, or read a step as steps.NAME.output',
    ),
  };
}

function checkTopLevelName(name: string, context: ReadContext): Problem {
  if (context.inputs.has(name)) return undefined;
  if (context.reader.kind === 'root-variables' && !context.rootVariables.has(name)) {
    return {
      message: `unknown name "${name}"`,
      hint: didYouMean(name, [...context.inputs, ...BUILTIN_NAMES], 'root variables may read inputs and run'),
    };
  }
  return checkVariable(name, context, 'name');
}

function inBatchTemplate(context: ReadContext): boolean {
  return context.reader.kind === 'step' && context.reader.inBatchTemplate;
}

function variableIsVisible(name: string, context: ReadContext): boolean {
  if (context.rootVariables.has(name)) return true;
  return (context.order.setters.get(name) ?? []).some((setter) => visibility(context.reader, setter).readable);
}

function visibleVariables(context: ReadContext): string[] {
  const all = new Set([...context.rootVariables, ...context.order.setters.keys()]);
  return [...all].filter((name) => variableIsVisible(name, context));
}

function namesInScope(context: ReadContext): string[] {
  const names: string[] = [...BUILTIN_NAMES, ...context.inputs];
  if (inBatchTemplate(context)) names.push(...BATCH_ITEM_NAMES);
  return names;
}
