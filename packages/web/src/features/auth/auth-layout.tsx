import type { ReactNode } from "react";
import { KilnLogo } from "../../ui/icons.tsx";

/** The centred card that sign-up, log-in and invitation pages share. */
export function AuthLayout({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <main className="flex min-h-full items-center justify-center bg-[radial-gradient(ellipse_at_top,var(--color-glow),transparent_60%)] px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex flex-col items-center gap-3 text-center">
          <KilnLogo className="size-10" />
          <h1 className="text-xl font-semibold text-neutral-50">{title}</h1>
          {subtitle && <p className="text-sm text-neutral-400">{subtitle}</p>}
        </div>
        <div className="rounded-lg border border-line bg-surface-1 p-6 shadow-xl">{children}</div>
        {footer && <div className="mt-4 text-center text-sm text-neutral-400">{footer}</div>}
      </div>
    </main>
  );
}
