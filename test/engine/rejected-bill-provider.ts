// The provider of the rejected-bill tests (rejected-bill-kill.test.ts and its child): an `openai`
// whose answers follow a script — `invalid` (a structured answer that fails the step's schema),
// `refuse`, `valid`, or `hang` (no answer, ever: the process is killed during it). Each answer is
// billed $0.01. Each call's prompt is appended to a file first, synchronously: a SIGKILL cannot
// lose a call that was made.
import { appendFileSync } from 'node:fs';
import type { ModelResponse } from '../../src/providers/provider.js';
import { StubProvider } from '../resilience/stub-provider.js';

export type Turn = 'invalid' | 'refuse' | 'valid' | 'hang';

export const COST_PER_ANSWER = 0.01;

function answer(turn: Exclude<Turn, 'hang'>): ModelResponse {
  const base: ModelResponse = {
    text: '',
    toolCalls: [],
    usage: { inputTokens: 10, outputTokens: 5 },
    finishReason: 'stop',
    model: 'gpt-4o',
    costUsd: COST_PER_ANSWER,
  };
  if (turn === 'refuse') return { ...base, refusal: 'I cannot help with that' };
  const object = turn === 'valid' ? { n: 1 } : { n: 'not a number' };
  return { ...base, text: JSON.stringify(object), object };
}

/** Answers call N (from 1) with `script[N - 1]`, then `valid`; logs each call's prompt to `log`. */
export function scriptedProvider(script: readonly Turn[], log?: string): StubProvider {
  return new StubProvider((n, _signal, request) => {
    if (log)
      appendFileSync(
        log,
        `${request.messages
          .map((m) => m.content)
          .join(' ')
          .slice(0, 40)}\n`,
      );
    const turn = script[n - 1] ?? 'valid';
    if (turn === 'hang') return new Promise<never>(() => {});
    return Promise.resolve(answer(turn));
  }, 'openai');
}

/**
 * Step a's first answer can be rejected (its schema), then repaired once; step b is a second call.
 * The budget: b's worst case fits beside $0.01 spent, not beside $0.02.
 */
export const PIPELINE = `name: rejected-bill
budget: { max_cost_usd: 0.015 }
steps:
  - name: a
    type: openai
    model: gpt-4o
    prompt: one
    max_tokens: 10
    max_repairs: 1
    schema: { type: object, required: [n], properties: { n: { type: number } } }
  - { name: b, type: openai, model: gpt-4o, prompt: two, max_tokens: 10 }
`;

export const ENV = { OPENAI_API_KEY: 'sk-test-000000000000' };
