// Cutting text to a length without breaking a character: a cut between the two halves of a
// surrogate pair (an emoji, a rare CJK character) leaves an invalid character, which a provider may
// refuse or mangle. Used by every bound on text sent to a model.

/** The first `limit` UTF-16 units of `text`, one fewer when the last would be half a surrogate pair. */
export function cutText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const code = text.charCodeAt(limit - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit);
}
