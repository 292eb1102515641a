// Gemini's thought signatures through its OpenAI-compatible endpoint. A Gemini 3 model's tool call
// comes with `extra_content: { google: { thought_signature } }` (on the call of a non-streamed
// answer, on a delta of a streamed one), and the call must go back with it, unchanged, in the
// assistant message of the next request: else the tool loop's next round is refused with a 400.
// It is the signature the native API sends as a part's `thoughtSignature`, so it travels in the same
// slot, `ToolCall.signature`. Other servers send no `extra_content`, and are sent none.

/** The thought signature a tool call (or a delta of one) carries, if any. */
export function thoughtSignatureOf(call: unknown): string | undefined {
  const extra = (call as { extra_content?: { google?: { thought_signature?: unknown } } } | null)?.extra_content;
  const signature = extra?.google?.thought_signature;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

/** What a tool call sent back adds to carry its signature: nothing when it has none. */
export function withThoughtSignature(signature: string | undefined): {
  extra_content?: { google: { thought_signature: string } };
} {
  return signature === undefined ? {} : { extra_content: { google: { thought_signature: signature } } };
}
