// A synchronous, typed publish/subscribe bus. Synchronous on purpose: a subscriber sees an event
// before the engine moves on, and publishing with no subscribers costs one Map lookup.
import type { ElexirionEvent, EventMap, EventType } from './events.js';

type Listener<K extends EventType> = (data: EventMap[K], at: number) => void;
type AnyListener = (event: ElexirionEvent) => void;

export class EventBus {
  private readonly listeners = new Map<EventType, Set<Listener<EventType>>>();
  private readonly anyListeners = new Set<AnyListener>();

  on<K extends EventType>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as Listener<EventType>);
    return () => set.delete(listener as Listener<EventType>);
  }

  /** Every event, of every type (the journal's event log, the live stream). */
  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<K extends EventType>(type: K, data: EventMap[K]): void {
    const at = Date.now();
    const set = this.listeners.get(type);
    // try/catch inline rather than a wrapper taking a closure: every step emits several events.
    if (set) {
      for (const listener of set) {
        try {
          (listener as Listener<K>)(data, at);
        } catch (error) {
          subscriberFailed(error);
        }
      }
    }
    if (this.anyListeners.size > 0) {
      const event = { type, at, data } as ElexirionEvent;
      for (const listener of this.anyListeners) {
        try {
          listener(event);
        } catch (error) {
          subscriberFailed(error);
        }
      }
    }
  }
}

// A broken subscriber (a progress bar, a metrics exporter) must never break a run.
function subscriberFailed(error: unknown): void {
  process.emitWarning(`event subscriber failed: ${error instanceof Error ? error.message : String(error)}`);
}
