// The query parameters of an endpoint that takes some are checked as its body fields are: one it does
// not know (`GET /runs?limt=3`), or one given twice, is a 400 naming it and the ones it accepts —
// never silently ignored, which would answer with the defaults as if the caller had asked for them.
import type { Context } from 'hono';
import { didYouMean } from '../config/did-you-mean.js';
import { HttpError } from './http-error.js';

/** Throws a 400 unless every query parameter of the request is one of `accepted`, given once. */
export function checkQueryParams(c: Context, accepted: readonly string[], example: string): void {
  const seen = new Set<string>();
  for (const name of new URL(c.req.url).searchParams.keys()) {
    const list = `accepted: ${accepted.map((a) => `\`${a}\``).join(', ')} (e.g. ${example})`;
    if (!accepted.includes(name)) {
      const guess = didYouMean(name, accepted);
      throw new HttpError(
        400,
        `unknown query parameter ${JSON.stringify(name)}`,
        guess === undefined ? list : `did you mean \`${guess}\`? ${list}`,
      );
    }
    if (seen.has(name)) throw new HttpError(400, `query parameter \`${name}\` is given more than once`, list);
    seen.add(name);
  }
}
