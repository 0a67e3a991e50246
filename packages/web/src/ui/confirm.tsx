import type { ReactNode } from "react";
import { create } from "zustand";
import { Button } from "./button.tsx";
import { Dialog } from "./dialog.tsx";

interface ConfirmRequest {
  title: string;
  description?: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Only tells: one button, no Cancel (a refusal explained). */
  notice?: boolean;
  resolve(ok: boolean): void;
}

const useConfirm = create<{ request: ConfirmRequest | null }>(() => ({ request: null }));

/** Asks a yes/no question in a dialog; resolves false when dismissed. One question at a time. */
export function confirmDialog(options: Omit<ConfirmRequest, "resolve">): Promise<boolean> {
  useConfirm.getState().request?.resolve(false);
  return new Promise((resolve) => useConfirm.setState({ request: { ...options, resolve } }));
}

/** Mounted once at the root; shows whatever confirmDialog asks. */
export function ConfirmHost() {
  const request = useConfirm((s) => s.request);
  const answer = (ok: boolean) => {
    request?.resolve(ok);
    useConfirm.setState({ request: null });
  };
  return (
    <Dialog
      open={request !== null}
      onClose={() => answer(false)}
      title={request?.title ?? ""}
      footer={
        <>
          {!request?.notice && <Button onClick={() => answer(false)}>Cancel</Button>}
          <Button variant={request?.danger ? "danger" : "primary"} onClick={() => answer(true)} autoFocus>
            {request?.confirmLabel}
          </Button>
        </>
      }
    >
      {request?.description && (
        <div className="text-[13px] leading-relaxed text-neutral-300">{request.description}</div>
      )}
    </Dialog>
  );
}
