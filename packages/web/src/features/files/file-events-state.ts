import { create } from "zustand";

/** Which project's change stream is open right now (`org/project`), if any (`useFileEvents`). */
export const useFileEventsState = create<{ live: string | undefined }>(() => ({ live: undefined }));
