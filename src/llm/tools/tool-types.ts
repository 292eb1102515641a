// What a tool is to the call loop: a function of its JSON arguments. A thrown error (or a
// ToolError) becomes a tool result marked isError, for the model to read and recover from.

export interface ToolContext {
  signal: AbortSignal;
}

export type ToolImplementation = (args: Record<string, unknown>, ctx: ToolContext) => unknown | Promise<unknown>;
export type ToolImplementations = Readonly<Record<string, ToolImplementation>>;

/** A refusal or failure meant for the model (not a crash of the step). */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}
