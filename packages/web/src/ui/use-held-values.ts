import { useCallback, useState } from "react";

/**
 * Values a control shows while their save is under way, keyed by control. A controlled checkbox must get its
 * new state in the click's own render: a cache update or mutation state lands a tick later, so the box would
 * flip back for a frame (and a click checked at once would seem to have done nothing). Each value is dropped
 * when its own save settles, whatever happened to the others meanwhile.
 */
export function useHeldValues<T>() {
  const [held, setHeld] = useState<ReadonlyMap<string, T>>(new Map());
  const hold = useCallback((key: string, value: T, save: Promise<unknown>) => {
    setHeld((m) => new Map(m).set(key, value));
    void save
      .catch(() => {})
      .finally(() =>
        setHeld((m) => {
          const next = new Map(m);
          next.delete(key);
          return next;
        }),
      );
  }, []);
  return { get: (key: string) => held.get(key), hold };
}
