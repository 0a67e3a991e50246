import { type ElementSelection, elementContextBlock } from "@kiln/protocol";
import { create } from "zustand";

/**
 * The element picked in the preview, per project (`org/project`), waiting to go with the next message,
 * and whether the preview is in "Select element" mode.
 */
export const useElementSelection = create<{
  picked: Record<string, ElementSelection>;
  picking: boolean;
}>(() => ({ picked: {}, picking: false }));

export function setPicking(picking: boolean): void {
  useElementSelection.setState({ picking });
}

export function pickElement(projectKey: string, selection: ElementSelection): void {
  useElementSelection.setState((s) => ({ picked: { ...s.picked, [projectKey]: selection }, picking: false }));
}

export function clearPicked(projectKey: string): void {
  useElementSelection.setState((s) => {
    const { [projectKey]: _, ...rest } = s.picked;
    return { picked: rest };
  });
}

/** `text` with the picked element's context block after it, when one is picked for the project. */
export function withPickedContext(projectKey: string, text: string): string {
  const selection = useElementSelection.getState().picked[projectKey];
  return selection ? `${text}\n\n${elementContextBlock(selection)}` : text;
}
