/** A tiny typed event emitter: `on` returns the unsubscribe function; a throwing listener cannot break `emit`. */
export function createEmitter<Events extends { [K in keyof Events]: unknown }>(
  onListenerError: (event: keyof Events, error: unknown) => void = () => {},
) {
  const listeners = new Map<keyof Events, Set<(payload: never) => void>>();
  return {
    on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    /** True when someone listens: lets hot paths skip building a payload nobody reads. */
    has(event: keyof Events): boolean {
      return (listeners.get(event)?.size ?? 0) > 0;
    },
    emit<K extends keyof Events>(event: K, payload: Events[K]): void {
      const set = listeners.get(event);
      if (!set) return;
      for (const l of set) {
        try {
          (l as (p: Events[K]) => void)(payload);
        } catch (e) {
          onListenerError(event, e);
        }
      }
    },
  };
}

export type Emitter<Events extends { [K in keyof Events]: unknown }> = ReturnType<typeof createEmitter<Events>>;
