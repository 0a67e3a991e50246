import { create } from "zustand";
import { api } from "../api/endpoints.ts";

/** Bumped to make the preview pane load its page again. */
export const usePreviewReload = create<{ tick: number }>(() => ({ tick: 0 }));

/**
 * Loads the preview's page again. After an agent turn that changed files this is unconditional: hot updates
 * arrive during the turn, but a step that did not run (a component used before its import was added) can
 * leave the page with nothing mounted, and whether the page managed to report that error before the turn
 * ended is a race. One reload at the end always shows the result.
 */
export function reloadPreview(): void {
  usePreviewReload.setState((s) => ({ tick: s.tick + 1 }));
}

/**
 * Reloads the preview when the page threw since `since`. Hot updates keep a page's state, but an agent
 * edits in steps, and a step that does not run (a component used before its import is added) can leave
 * React with nothing mounted; the later fix then hot-updates an empty page. A fresh load shows the result.
 */
export async function reloadIfBroken(org: string, project: string, since: number): Promise<void> {
  try {
    const { errors } = await api.previewErrors.list(org, project);
    if (errors.some((e) => e.source === "browser" && Date.parse(e.lastAt) >= since)) {
      usePreviewReload.setState((s) => ({ tick: s.tick + 1 }));
    }
  } catch {
    // The preview keeps what it shows; its reload button is still there.
  }
}
