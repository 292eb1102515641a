// A journal whose `method` fails `failures` calls after the first `after`, as a disk that errors
// would: the run crashes there, and its supervisor restarts it from what is durable (a new
// execution). What the paid-hit tests use to crash a run between a paid call and the journal row
// that would bill it.
import type { Store } from '../../src/journal/store.js';

export function flakyJournal(inner: Store, method: 'commitStep' | 'commitItems', failures: number, after = 0): Store {
  let calls = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === method) {
        return async (...args: unknown[]) => {
          calls++;
          if (calls > after && calls <= after + failures) throw new Error('SQLITE_IOERR: simulated');
          return (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
