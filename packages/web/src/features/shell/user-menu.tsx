import { useNavigate } from "@tanstack/react-router";
import type { ReactNode } from "react";
import { type ThemeChoice, useTheme } from "../../state/theme.ts";
import {
  GridIcon,
  KeyboardIcon,
  LogoutIcon,
  MonitorIcon,
  MoonIcon,
  SettingsIcon,
  SunIcon,
} from "../../ui/icons.tsx";
import { Menu, type MenuEntry } from "../../ui/menu.tsx";
import { useLogout } from "../auth/use-logout.ts";
import { useMe } from "../auth/use-me.ts";
import { openShortcuts } from "./shortcuts.tsx";

const THEMES: Array<{ choice: ThemeChoice; label: string; icon: ReactNode }> = [
  { choice: "system", label: "System", icon: <MonitorIcon className="size-3.5" /> },
  { choice: "light", label: "Light", icon: <SunIcon className="size-3.5" /> },
  { choice: "dark", label: "Dark", icon: <MoonIcon className="size-3.5" /> },
];

export function UserMenu() {
  const me = useMe();
  const logout = useLogout();
  const theme = useTheme();
  const navigate = useNavigate();
  const initials = (me.user.name || me.user.email)
    .split(/[\s@.]+/)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? "")
    .join("");
  const items: MenuEntry[] = [
    { heading: me.user.name ? `${me.user.name} · ${me.user.email}` : me.user.email },
    { label: "Account", icon: <SettingsIcon />, onSelect: () => void navigate({ to: "/account" }) },
    ...(me.instanceAdmin
      ? [{ label: "Instance admin", icon: <GridIcon />, onSelect: () => void navigate({ to: "/admin" }) }]
      : []),
    { label: "Keyboard shortcuts", icon: <KeyboardIcon />, hint: "?", onSelect: openShortcuts },
    { label: "Log out", icon: <LogoutIcon />, onSelect: () => void logout() },
    "separator",
    { heading: "Theme" },
    ...THEMES.map((t) => ({
      label: t.label,
      icon: t.icon,
      checked: theme.choice === t.choice,
      onSelect: () => theme.choose(t.choice),
    })),
  ];
  return (
    <Menu
      label="Account"
      align="end"
      items={items}
      trigger={(props) => (
        <button
          type="button"
          {...props}
          aria-label="Account menu"
          title={me.user.name ? `${me.user.name} (${me.user.email})` : me.user.email}
          className="flex size-7 items-center justify-center rounded-full bg-accent-600/20 text-[11px] font-semibold text-accent-400 ring-1 ring-accent-500/30 hover:bg-accent-600/30"
        >
          {initials || "?"}
        </button>
      )}
    />
  );
}
