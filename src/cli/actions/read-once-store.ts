// `runs show` of a killed run reads its journal once. Ending the run (endIfOrphaned) reads its steps
// and batch items to total them, and the report then needs the same rows: through this view of the
// store, every read of that run's steps or item totals after the first is answered from the first.
// For a killed run the rows cannot change in between (its owner is gone, and ending it writes only
// its row); for a live one — every `runs show` goes through this view — it is one snapshot of them.
import type { Store } from '../../journal/store.js';

export function readingJournalOnce(store: Store, runId: string): Store {
  const memo = new Map<PropertyKey, Promise<unknown>>();
  const once = (name: 'getSteps' | 'itemTotals') => (id: string) => {
    if (id !== runId) return store[name](id);
    let read = memo.get(name);
    if (!read) {
      read = store[name](id);
      memo.set(name, read);
    }
    return read;
  };
  const getSteps = once('getSteps');
  const itemTotals = once('itemTotals');
  return new Proxy(store, {
    get(target, key) {
      if (key === 'getSteps') return getSteps;
      if (key === 'itemTotals') return itemTotals;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
