// Gemini 3 behind Gemini's OpenAI-compatible endpoint, as the OpenAI fake plays it for `gemini-3*`
// models: each tool call of an answer carries `extra_content.google.thought_signature`, and a request
// whose current turn sends a call back without the signature it was given (dropped, or changed) is
// refused with a 400, as Google refuses it — the second round of a tool loop fails there.

/** The signature the fake gives a call of this name: checkable when it comes back, like Google's. */
export function thoughtSignatureFor(name: string): string {
  return Buffer.from(`signature of ${name}`).toString('base64');
}

/** Whether the fake plays Gemini 3 for this model. */
export function signsToolCalls(model: string): boolean {
  return model.startsWith('gemini-3');
}

interface SentMessage {
  role: string;
  tool_calls?: Array<{
    function?: { name?: string };
    extra_content?: { google?: { thought_signature?: unknown } };
  }>;
}

/**
 * Google's refusal of a request whose current turn (the messages after the last user message) has a
 * tool call without its signature, or undefined when every call carries its own.
 */
export function unsignedCallRefusal(messages: SentMessage[]): { status: number; message: string } | undefined {
  const lastUser = messages.findLastIndex((m) => m.role === 'user');
  for (const [position, message] of messages.entries()) {
    if (position < lastUser || message.role !== 'assistant') continue;
    for (const call of message.tool_calls ?? []) {
      const name = call.function?.name ?? '';
      if (call.extra_content?.google?.thought_signature === thoughtSignatureFor(name)) continue;
      return {
        status: 400,
        message: `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`${name}\`, position ${position + 1}.`,
      };
    }
  }
  return undefined;
}
