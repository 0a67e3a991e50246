import { Link, useNavigate } from "@tanstack/react-router";
import type { ReactNode } from "react";
import { IconButton } from "../../ui/button.tsx";
import { ChartIcon, GridIcon, KilnLogo, MenuIcon, SettingsIcon } from "../../ui/icons.tsx";
import { Menu } from "../../ui/menu.tsx";
import { VerifyBanner } from "../auth/verify-banner.tsx";
import { NotificationBell } from "../notifications/bell.tsx";
import { OrgSwitcher } from "../orgs/org-switcher.tsx";
import { UserMenu } from "./user-menu.tsx";

/** The bar above the dashboard and settings pages (and, until the user's email is verified, a banner). */
export function AppHeader({ org, children }: { org: string; children?: ReactNode }) {
  const navigate = useNavigate();
  const tab =
    "rounded-md px-2.5 py-1 text-[13px] text-neutral-400 hover:text-neutral-100 data-[status=active]:bg-tint/6 data-[status=active]:text-neutral-100";
  return (
    <>
      <header className="sticky top-0 z-20 flex h-12 shrink-0 items-center gap-2 border-b border-line bg-surface-1/95 px-3 backdrop-blur sm:px-4">
        <Link to="/$org" params={{ org }} aria-label="Kiln home" className="mr-1">
          <KilnLogo className="size-6" />
        </Link>
        <span className="text-neutral-700">/</span>
        <OrgSwitcher current={org} />
        <nav className="ml-2 hidden items-center gap-1 sm:flex">
          <Link to="/$org" params={{ org }} activeOptions={{ exact: true }} className={tab}>
            Projects
          </Link>
          <Link to="/$org/marketplace" params={{ org }} className={tab}>
            Marketplace
          </Link>
          <Link to="/$org/usage" params={{ org }} className={tab}>
            Usage
          </Link>
          <Link to="/$org/settings" params={{ org }} className={tab}>
            Settings
          </Link>
        </nav>
        <div className="ml-auto flex shrink-0 items-center gap-1 sm:gap-2">
          {children}
          {/* Where the tabs above do not fit, a menu has them. */}
          <Menu
            label="Pages"
            align="end"
            className="sm:hidden"
            items={[
              {
                label: "Projects",
                icon: <GridIcon />,
                onSelect: () => void navigate({ to: "/$org", params: { org } }),
              },
              {
                label: "Marketplace",
                icon: <GridIcon />,
                onSelect: () => void navigate({ to: "/$org/marketplace", params: { org } }),
              },
              {
                label: "Usage",
                icon: <ChartIcon />,
                onSelect: () => void navigate({ to: "/$org/usage", params: { org } }),
              },
              {
                label: "Settings",
                icon: <SettingsIcon />,
                onSelect: () => void navigate({ to: "/$org/settings", params: { org } }),
              },
            ]}
            trigger={(props) => (
              <IconButton label="Menu" {...props}>
                <MenuIcon className="size-4" />
              </IconButton>
            )}
          />
          <NotificationBell />
          <UserMenu />
        </div>
      </header>
      <VerifyBanner />
    </>
  );
}
