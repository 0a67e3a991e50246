import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";
import { useId } from "react";
import { cn } from "./cn.ts";

// A width given by the caller replaces the default full width (class order cannot be relied on).
const width = (className: string | undefined) => (/(^|\s)w-/.test(className ?? "") ? undefined : "w-full");

const field =
  "rounded-md border border-line bg-surface-0 px-2.5 text-sm text-neutral-100 placeholder:text-neutral-500 focus:border-accent-500 focus:outline-none focus-visible:outline-none disabled:opacity-60";

export function Input({ className, ...rest }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={cn(field, width(className), "h-9", className)} {...rest} />;
}

export function Select({ className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <select className={cn(field, width(className), "h-9 pr-7", className)} {...rest}>
      {children}
    </select>
  );
}

/** A labelled field: the label, the control (given an id), and a hint or an error below. */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (id: string) => ReactNode;
}) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1.5">
      <label htmlFor={id} className="text-xs font-medium text-neutral-300">
        {label}
      </label>
      {children(id)}
      {error ? (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      ) : hint ? (
        <p className="text-xs text-neutral-500">{hint}</p>
      ) : null}
    </div>
  );
}
