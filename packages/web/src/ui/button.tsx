import type { ButtonHTMLAttributes, ReactNode } from "react";
import { cn } from "./cn.ts";
import { Spinner } from "./spinner.tsx";

type Variant = "primary" | "secondary" | "ghost" | "danger";
type Size = "xs" | "sm" | "md";

const variants: Record<Variant, string> = {
  primary: "bg-accent-600 text-white hover:bg-accent-500 disabled:bg-accent-600/50",
  secondary:
    "bg-surface-3 text-neutral-100 border border-line hover:bg-neutral-700/60 disabled:text-neutral-500",
  ghost: "text-neutral-300 hover:bg-tint/6 hover:text-neutral-100 disabled:text-neutral-600",
  danger: "bg-red-600/90 text-white hover:bg-red-500 disabled:bg-red-600/40",
};

const sizes: Record<Size, string> = {
  xs: "h-6 px-1.5 text-xs gap-1 rounded",
  sm: "h-7 px-2.5 text-xs gap-1.5 rounded-md",
  md: "h-9 px-3.5 text-sm gap-2 rounded-md",
};

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  size?: Size;
  loading?: boolean;
  icon?: ReactNode;
}

export function Button({
  variant = "secondary",
  size = "sm",
  loading = false,
  icon,
  className,
  children,
  disabled,
  type = "button",
  ...rest
}: ButtonProps) {
  return (
    <button
      type={type}
      disabled={disabled || loading}
      className={cn(
        "inline-flex shrink-0 items-center justify-center font-medium whitespace-nowrap transition-colors select-none disabled:cursor-not-allowed",
        variants[variant],
        sizes[size],
        className,
      )}
      {...rest}
    >
      {loading ? <Spinner className="[&_svg]:size-3.5 [&_svg]:text-current" /> : icon}
      {children}
    </button>
  );
}

/** A square, icon-only button; `label` is its accessible name and tooltip. */
export function IconButton({
  label,
  children,
  className,
  active,
  ...rest
}: Omit<ButtonHTMLAttributes<HTMLButtonElement>, "aria-label"> & { label: string; active?: boolean }) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      className={cn(
        "inline-flex size-7 shrink-0 items-center justify-center rounded text-neutral-400 transition-colors hover:bg-tint/8 hover:text-neutral-100 disabled:cursor-not-allowed disabled:opacity-40",
        active && "bg-tint/10 text-neutral-100",
        className,
      )}
      {...rest}
    >
      {children}
    </button>
  );
}
