// A variable undefined because its path runs into text — `{{ steps.review.output.verdict }}` on a
// step that answered prose — says so: the generic "not in scope" sent users looking for a typo.
import { describe, expect, it } from 'vitest';
import { renderString, renderValue } from '../../src/template/render.js';
import { buildScope } from '../../src/template/scope.js';

const scope = buildScope({
  inputs: { topic: 'durability' },
  variables: {},
  steps: { review: { output: 'Looks good to me.' }, plan: { output: { files: ['a.ts'] } } },
  run: { id: 'r', pipeline: 'p' },
} as never);

describe('an undefined variable whose path runs into text', () => {
  it('says the step output is text, and what makes it an object', () => {
    const expected =
      'undefined variable "steps.review.output.verdict" (steps.review.output is text, not an object, so it has no "verdict": only a step with a `schema:` answers an object with fields)';
    expect(() => renderString('Verdict: {{ steps.review.output.verdict }}', scope)).toThrow(expected);
    expect(() => renderValue('{{ steps.review.output.verdict }}', scope)).toThrow(expected);
  });

  it('says so of any text, and keeps the plain message where the path is simply absent', () => {
    expect(() => renderString('{{ topic.name }}', scope)).toThrow(
      'undefined variable "topic.name" (topic is text, not an object, so it has no "name")',
    );
    expect(() => renderString('{{ steps.plan.output.owner }}', scope)).toThrow(
      /^undefined variable "steps\.plan\.output\.owner"( in|$)/,
    );
  });
});
