import { create } from "zustand";
import { cn } from "./cn.ts";

export interface Toast {
  id: number;
  kind: "info" | "success" | "error";
  message: string;
}

interface ToastState {
  toasts: Toast[];
  push(kind: Toast["kind"], message: string): void;
  dismiss(id: number): void;
}

let next = 1;

export const useToasts = create<ToastState>((set, get) => ({
  toasts: [],
  push(kind, message) {
    const id = next++;
    set({ toasts: [...get().toasts.slice(-3), { id, kind, message }] });
    setTimeout(() => get().dismiss(id), kind === "error" ? 7000 : 3500);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const toast = {
  info: (message: string) => useToasts.getState().push("info", message),
  success: (message: string) => useToasts.getState().push("success", message),
  error: (message: string) => useToasts.getState().push("error", message),
};

export function Toaster() {
  const { toasts, dismiss } = useToasts();
  return (
    <div
      aria-live="polite"
      className="pointer-events-none fixed right-4 bottom-4 z-[100] flex w-80 flex-col gap-2"
    >
      {toasts.map((t) => (
        <div
          key={t.id}
          role={t.kind === "error" ? "alert" : "status"}
          className={cn(
            "pointer-events-auto flex items-start gap-2 rounded-md border bg-surface-2 px-3 py-2.5 text-[13px] shadow-xl",
            t.kind === "error"
              ? "border-red-500/40"
              : t.kind === "success"
                ? "border-emerald-500/40"
                : "border-line",
          )}
        >
          <span
            className={cn(
              "mt-1.5 size-1.5 shrink-0 rounded-full",
              t.kind === "error" ? "bg-red-400" : t.kind === "success" ? "bg-emerald-400" : "bg-sky-400",
            )}
          />
          <span className="flex-1 break-words text-neutral-200">{t.message}</span>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => dismiss(t.id)}
            className="text-neutral-500 hover:text-neutral-200"
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
