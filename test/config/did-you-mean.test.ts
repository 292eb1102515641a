import { describe, expect, it } from 'vitest';
import { didYouMean, suggestion } from '../../src/config/did-you-mean.js';
import { STEP_TYPES } from '../../src/config/schema.js';

describe('didYouMean', () => {
  it('finds plausible typos', () => {
    expect(didYouMean('promt', ['prompt', 'provider', 'model'])).toBe('prompt');
    expect(didYouMean('claud', STEP_TYPES)).toBe('claude');
    expect(didYouMean('set_varaible', STEP_TYPES)).toBe('set_variable');
    expect(didYouMean('Model', ['prompt', 'model'])).toBe('model');
  });

  it('does not suggest what is not close', () => {
    expect(didYouMean('foo', ['prompt', 'top_p'])).toBeUndefined();
    expect(didYouMean('x', [])).toBeUndefined();
  });

  it('lists the candidates when nothing is close', () => {
    expect(suggestion('zzz', ['a', 'b'], 'one of')).toBe('one of: a, b');
    expect(suggestion('modle', ['model'])).toBe('did you mean "model"?');
  });
});
