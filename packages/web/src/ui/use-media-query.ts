import { useSyncExternalStore } from "react";

/** Below this width (Tailwind's `md`) the studio shows one pane at a time: phones and narrow windows. */
export const NARROW_SCREEN = "(max-width: 767px)";

/** Whether a CSS media query matches now; re-renders when it starts or stops matching. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (notify) => {
      const list = window.matchMedia(query);
      list.addEventListener("change", notify);
      return () => list.removeEventListener("change", notify);
    },
    () => window.matchMedia(query).matches,
  );
}

export const useNarrowScreen = () => useMediaQuery(NARROW_SCREEN);
