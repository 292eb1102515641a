// Load-time checks of every template in a pipeline: each must parse, use known filters, and read
// only what its scope will hold when it is rendered — declared inputs, variables already set,
// steps that have finished, `item`/`index` in a batch's step_template. A mistake here is found
// before a single token is spent, not as an empty string in a prompt.
//
// Which strings are templates — the rule: the text a step sends or decides with, never its
// configuration.
//   - `when`, `prompt`, `system`, `cwd`, `messages[].content`, wherever a step, a batch's
//     `step_template` or a `fallback` has them;
//   - every string inside `response` (mock), `items` (batch), the `variables` of the root and of
//     `set_variable` steps, the `inputs` of `pipeline` steps, and `outputs`.
// Everything else (`name`, `type`, `model`, `provider`, `base_url`, `schema`, `tools`,
// `description`, `file`, durations, …) is used literally.
import type { Pipeline, Step } from '../config/schema.js';
import { checkReference, type ReadContext } from './check-reference.js';
import { filterArgumentProblems } from './filter-arguments.js';
import { plainConditionProblem } from './plain-condition.js';
import { listReferences } from './references.js';
import { BUILTIN_NAMES } from './scope.js';
import { forEachStep, type OutputsOfFile, type ReaderPlace, stepOrder } from './step-order.js';
import { TemplateError } from './template-error.js';

export interface TemplateIssue {
  /** Key path of the string in the pipeline document, e.g. ['steps', 3, 'prompt']. */
  path: (string | number)[];
  message: string;
  hint?: string;
  /** Character offset of the problem inside that string. */
  offset?: number;
  /** Point at the key of the last path segment (a name) rather than at its value. */
  at?: 'key';
}

type Path = (string | number)[];

/**
 * Names Liquid reads as literals: `{{ empty }}` is Liquid's empty value, whatever the scope holds, so
 * an input or variable of such a name could never be read bare.
 */
const LIQUID_LITERALS = ['true', 'false', 'nil', 'null', 'empty', 'blank'] as const;

/** Fields of a call (a step, a step_template, a fallback) whose string value is one template. */
const CALL_TEMPLATE_KEYS = ['when', 'prompt', 'system', 'cwd'] as const;

/**
 * Every template problem of `pipeline` (and of its inline child pipelines), in document order.
 * `outputsOfFile` lets reads of a `file:` pipeline step's output keys be checked too.
 */
export function checkTemplates(pipeline: Pipeline, outputsOfFile?: OutputsOfFile): TemplateIssue[] {
  return new PipelineChecker(pipeline, [], outputsOfFile).run();
}

class PipelineChecker {
  private readonly issues: TemplateIssue[] = [];
  private readonly order;
  private readonly inputs: ReadonlySet<string>;
  private readonly rootVariables: ReadonlySet<string>;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly prefix: Path,
    private readonly outputsOfFile?: OutputsOfFile,
  ) {
    this.order = stepOrder(pipeline, outputsOfFile);
    this.inputs = new Set(isObject(pipeline.inputs) ? Object.keys(pipeline.inputs) : []);
    this.rootVariables = new Set(isObject(pipeline.variables) ? Object.keys(pipeline.variables) : []);
  }

  run(): TemplateIssue[] {
    this.checkNames();
    this.checkDeep(this.pipeline.variables, ['variables'], { kind: 'root-variables' });
    forEachStep(this.pipeline.steps, (step, index) => {
      this.checkStep(step, ['steps', index], {
        kind: 'step',
        place: { name: step.name, order: index, groups: [] },
        inBatchTemplate: false,
      });
    });
    this.checkDeep(this.pipeline.outputs, ['outputs'], { kind: 'outputs' });
    return this.issues;
  }

  private checkStep(step: Step, path: Path, reader: ReaderPlace & { kind: 'step' }): void {
    this.checkCall(step, path, reader);
    switch (step.type) {
      case 'batch':
      case 'claude_batch':
        this.checkDeep(step.items, [...path, 'items'], reader);
        if (isObject(step.step_template)) {
          this.checkCall(step.step_template, [...path, 'step_template'], { ...reader, inBatchTemplate: true });
        }
        break;
      case 'set_variable':
        this.checkDeep(step.variables, [...path, 'variables'], reader);
        break;
      case 'parallel':
        forEachStep(step.steps, (sub, index) => {
          const place = { name: sub.name, order: reader.place.order, groups: [...reader.place.groups, step.name] };
          this.checkStep(sub, [...path, 'steps', index], { kind: 'step', place, inBatchTemplate: false });
        });
        break;
      case 'pipeline':
        this.checkDeep(step.inputs, [...path, 'inputs'], reader);
        if (isObject(step.pipeline)) {
          // An inline child runs in its own scope: its inputs, its steps.
          this.issues.push(
            ...new PipelineChecker(step.pipeline, [...this.prefix, ...path, 'pipeline'], this.outputsOfFile).run(),
          );
        }
        break;
      default:
        break;
    }
  }

  /** The template fields of a step, a step_template or a fallback (see the rule at the top). */
  private checkCall(call: object, path: Path, reader: ReaderPlace): void {
    const fields = call as Record<string, unknown>;
    for (const key of CALL_TEMPLATE_KEYS) {
      const value = fields[key];
      if (typeof value === 'string') this.checkTemplate(value, [...path, key], reader);
    }
    if (typeof fields.when === 'string') {
      const problem = plainConditionProblem(fields.when);
      if (problem) this.issues.push(issue([...this.prefix, ...path, 'when'], problem.message, problem.hint, undefined));
    }
    this.checkDeep(fields.response, [...path, 'response'], reader);
    if (Array.isArray(fields.messages)) {
      fields.messages.forEach((message: unknown, index) => {
        const content = (message as { content?: unknown } | null)?.content;
        if (typeof content === 'string') this.checkTemplate(content, [...path, 'messages', index, 'content'], reader);
      });
    }
    const fallback = fields.fallback;
    if (Array.isArray(fallback)) {
      fallback.forEach((entry: unknown, index) => {
        if (isObject(entry)) this.checkCall(entry, [...path, 'fallback', index], reader);
      });
    } else if (isObject(fallback)) {
      this.checkCall(fallback, [...path, 'fallback'], reader);
    }
  }

  /** Every string inside `value` is a template. */
  private checkDeep(value: unknown, path: Path, reader: ReaderPlace): void {
    if (typeof value === 'string') {
      this.checkTemplate(value, path, reader);
    } else if (Array.isArray(value)) {
      value.forEach((element, index) => {
        this.checkDeep(element, [...path, index], reader);
      });
    } else if (isObject(value)) {
      for (const [key, element] of Object.entries(value)) this.checkDeep(element, [...path, key], reader);
    }
  }

  private checkTemplate(source: string, path: Path, reader: ReaderPlace): void {
    const at = [...this.prefix, ...path];
    let references: ReturnType<typeof listReferences>;
    try {
      references = listReferences(source);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      this.issues.push(issue(at, `template error: ${error.problem}`, error.hint, error.offset));
      // A misspelt filter leaves the rest of the template readable: check its names too.
      if (!error.problem.startsWith('unknown filter')) return;
      try {
        references = listReferences(source, { ignoreUnknownFilters: true });
      } catch {
        return;
      }
    }
    const context: ReadContext = { reader, order: this.order, inputs: this.inputs, rootVariables: this.rootVariables };
    for (const reference of references) {
      const problem = checkReference(reference, context);
      if (problem !== undefined) this.issues.push(issue(at, problem.message, problem.hint, reference.offset));
    }
    for (const problem of filterArgumentProblems(source)) {
      this.issues.push(issue(at, `template error: ${problem.message}`, problem.hint, problem.offset));
    }
  }

  /**
   * Every name the pipeline puts at the top of the template scope — its inputs, its root variables,
   * the variables its `set_variable` steps set — must be one `{{ NAME }}` reads: not a built-in
   * name (which wins over it) nor a Liquid literal (which Liquid reads instead). Reported at the name.
   */
  private checkNames(): void {
    for (const name of this.inputs) this.checkName(name, ['inputs', name], 'input');
    for (const name of this.rootVariables) this.checkName(name, ['variables', name], 'variable');
    const visit = (steps: unknown, path: Path): void => {
      forEachStep(steps, (step, index) => {
        if (step.type === 'set_variable' && isObject(step.variables)) {
          for (const name of Object.keys(step.variables)) {
            this.checkName(name, [...path, index, 'variables', name], 'variable');
          }
        }
        if (step.type === 'parallel') visit(step.steps, [...path, index, 'steps']);
      });
    };
    visit(this.pipeline.steps, ['steps']);
  }

  private checkName(name: string, path: Path, kind: 'input' | 'variable'): void {
    let message: string;
    let taken: readonly string[];
    if ((BUILTIN_NAMES as readonly string[]).includes(name)) {
      const reads = BUILTIN_READS[name as (typeof BUILTIN_NAMES)[number]];
      message = `the ${kind} name "${name}" is a built-in name of the template scope: {{ ${name} }} reads ${reads}, not this ${kind}`;
      taken = BUILTIN_NAMES;
    } else if ((LIQUID_LITERALS as readonly string[]).includes(name)) {
      message = `the ${kind} name "${name}" is a Liquid literal: {{ ${name} }} is ${LITERAL_READS[name as (typeof LIQUID_LITERALS)[number]]}, not this ${kind}`;
      taken = LIQUID_LITERALS;
    } else {
      return;
    }
    this.issues.push({
      path: [...this.prefix, ...path],
      message,
      hint: `rename the ${kind}, say to "${name}_value", here and where templates read it (${list(taken)} are taken)`,
      at: 'key',
    });
  }
}

function list(names: readonly string[]): string {
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** What `{{ NAME }}` reads for each built-in name. */
const BUILTIN_READS: Record<(typeof BUILTIN_NAMES)[number], string> = {
  inputs: 'all the inputs',
  variables: 'all the variables',
  steps: 'all the steps',
  run: 'the run (its id and pipeline)',
};

/** What `{{ NAME }}` is for each Liquid literal. */
const LITERAL_READS: Record<(typeof LIQUID_LITERALS)[number], string> = {
  true: 'the boolean true',
  false: 'the boolean false',
  nil: 'nil (nothing)',
  null: 'nil (nothing)',
  empty: "Liquid's empty value (printed as {})",
  blank: "Liquid's blank value",
};

function issue(path: Path, message: string, hint: string | undefined, offset: number | undefined): TemplateIssue {
  return {
    path,
    message,
    ...(hint === undefined ? {} : { hint }),
    ...(offset === undefined ? {} : { offset }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
