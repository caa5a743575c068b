/**
 * The agent's one event style: a component declares its events as a map from name to payload,
 * extends `Emitter` with that map, and emits from inside; anyone may listen. `on()` returns the
 * function that removes the listener (no `off()` bookkeeping at the call site); `once()` is a
 * promise of the next one. Events without
 * a payload are declared `undefined`. Listeners run in the order they were added, synchronously.
 */
export type EventMap = Record<string, unknown>;

/** The arguments of `emit()` for an event: none for an `undefined` payload, else the payload. */
type EmitArgs<T> = [T] extends [undefined] ? [] : [payload: T];

/** A listener of an event: no argument for an `undefined` payload, else the payload. */
export type Listener<T> = [T] extends [undefined] ? () => void : (payload: T) => void;

export type Unsubscribe = () => void;

/** Something that can be listened to for the events of `E` (what a consumer asks for). */
export interface Listenable<E extends EventMap> {
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe;
}

export class Emitter<E extends EventMap> implements Listenable<E> {
  private readonly listeners = new Map<keyof E, Set<(...args: never[]) => void>>();

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as (...args: never[]) => void;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  /** Resolves with the payload of the next `event`. */
  once<K extends keyof E & string>(event: K): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, ((payload: E[K]) => {
        off();
        resolve(payload);
      }) as Listener<E[K]>);
    });
  }

  protected emit<K extends keyof E & string>(event: K, ...args: EmitArgs<E[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) (l as unknown as (...a: EmitArgs<E[K]>) => void)(...args);
  }
}
