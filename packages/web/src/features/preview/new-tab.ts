/** A tab opened during a click whose address is known only later (a hand-off link the API hands out). */
export interface PendingTab {
  /** Sends the tab to `url`; a new one when the browser gave no tab (pop-up blocked) or it was closed. */
  go(url: string): void;
  close(): void;
}

/**
 * Opens the tab at once, so the browser counts it as the user's click and not a pop-up, and lets nothing
 * it later shows reach back into the studio (reverse tabnabbing: `window.opener.location = phishing`).
 * `noopener` would return no handle to send the blank tab on with, so its opener is cut by hand before it
 * leaves for the other origin; the studio's `Cross-Origin-Opener-Policy: same-origin` cuts it as well.
 */
export function openPendingTab(): PendingTab {
  const tab = window.open("about:blank", "_blank");
  if (tab) tab.opener = null;
  return {
    go(url) {
      if (tab && !tab.closed) tab.location.replace(url);
      else window.open(url, "_blank", "noopener,noreferrer");
    },
    close() {
      tab?.close();
    },
  };
}
