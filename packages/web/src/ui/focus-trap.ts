/** What Tab can reach: enabled controls, links, and anything given a tab stop, as long as it is rendered. */
const TABBABLE = [
  "a[href]",
  "button:not(:disabled)",
  "input:not(:disabled):not([type=hidden])",
  "select:not(:disabled)",
  "textarea:not(:disabled)",
  "iframe",
  "summary",
  "[contenteditable=true]",
  "[tabindex]",
].join(",");

export function tabbables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(TABBABLE)].filter(
    (el) =>
      el.tabIndex >= 0 && !el.closest("[inert]") && el.getClientRects().length > 0 && isRadioStop(el, root),
  );
}

/** Of a group of radio buttons Tab reaches one: the checked one, or the first when none is. */
function isRadioStop(el: HTMLElement, root: HTMLElement): boolean {
  if (!(el instanceof HTMLInputElement) || el.type !== "radio" || !el.name) return true;
  const group = [...root.querySelectorAll<HTMLInputElement>("input[type=radio]")].filter(
    (r) => r.name === el.name && !r.disabled,
  );
  const checked = group.find((r) => r.checked);
  return checked ? checked === el : group[0] === el;
}

/** Focuses the first control inside `root`, or `root` itself when it has none. */
export function focusFirst(root: HTMLElement): void {
  const first = tabbables(root)[0];
  if (first) first.focus();
  else {
    if (root.tabIndex < 0 && !root.hasAttribute("tabindex")) root.tabIndex = -1;
    root.focus();
  }
}

/**
 * Keeps Tab inside `root`: past the last control it wraps to the first, before the first (Shift+Tab) to the
 * last. Between them the browser moves focus as usual. A modal <dialog> makes the page inert but would
 * still let Tab leave for the browser's own toolbar.
 */
export function trapTab(root: HTMLElement, e: { shiftKey: boolean; preventDefault(): void }): void {
  const all = tabbables(root);
  const active = document.activeElement;
  if (all.length === 0) {
    e.preventDefault();
    return;
  }
  const first = all[0]!;
  const last = all[all.length - 1]!;
  const inside = active instanceof HTMLElement && active !== root && root.contains(active);
  if (e.shiftKey && (!inside || active === first)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (!inside || active === last)) {
    e.preventDefault();
    first.focus();
  }
}
