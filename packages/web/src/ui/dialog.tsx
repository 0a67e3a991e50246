import { type KeyboardEvent, type ReactNode, useLayoutEffect, useRef, useState } from "react";
import { cn } from "./cn.ts";
import { focusFirst, trapTab } from "./focus-trap.ts";

/**
 * A modal on the native <dialog>: the browser closes it on Escape and keeps the page inert; clicking the
 * backdrop closes it too. Focus moves in when it opens (to the field marked autoFocus, else the first
 * control), Tab and Shift+Tab wrap around inside it, and focus goes back to what opened it when it closes.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  footer,
  className,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  className?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  // The content mounts once the dialog is open: React's autoFocus cannot focus inside a closed <dialog>.
  const [shown, setShown] = useState(false);

  // What the owner last asked for: a `close` event the browser fires late (after a close asked here, when the
  // dialog may already be open again) must not close it a second time.
  const wanted = useRef(open);

  useLayoutEffect(() => {
    wanted.current = open;
    const dialog = ref.current;
    if (!dialog) return;
    if (open) {
      if (dialog.open) return;
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      setShown(true);
      return;
    }
    // Closed here, or already by the browser (a second Escape closes without asking).
    if (dialog.open) dialog.close();
    setShown(false);
    const back = opener.current;
    opener.current = null;
    if (back?.isConnected) back.focus();
  }, [open]);

  // After the content mounted: a field with autoFocus has taken focus, or the first control takes it.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!shown || !dialog) return;
    const active = document.activeElement;
    if (!active || active === dialog || !dialog.contains(active)) focusFirst(dialog);
  }, [shown]);

  const onKeyDown = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key === "Tab" && ref.current) trapTab(ref.current, e);
  };

  return (
    <dialog
      ref={ref}
      aria-label={title}
      onClose={() => {
        // Closed by the browser while it should be open; a late event of a close asked here is not.
        if (wanted.current && !ref.current?.open) onClose();
      }}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
      onKeyDown={onKeyDown}
      className={cn(
        "m-auto w-[min(32rem,calc(100vw-2rem))] rounded-lg border border-line bg-surface-1 p-0 text-neutral-200 shadow-2xl",
        className,
      )}
    >
      {open && shown && (
        <div className="flex max-h-[85vh] flex-col">
          <header className="border-b border-line px-5 pt-4 pb-3">
            <h2 className="text-sm font-semibold text-neutral-100">{title}</h2>
            {description && <p className="mt-1 text-xs text-neutral-400">{description}</p>}
          </header>
          <div className="overflow-y-auto px-5 py-4">{children}</div>
          {footer && (
            <footer className="flex justify-end gap-2 border-t border-line px-5 py-3">{footer}</footer>
          )}
        </div>
      )}
    </dialog>
  );
}
