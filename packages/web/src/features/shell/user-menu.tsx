import { useNavigate } from "@tanstack/react-router";
import { KeyboardIcon, LogoutIcon, SettingsIcon } from "../../ui/icons.tsx";
import { Menu } from "../../ui/menu.tsx";
import { useLogout } from "../auth/use-logout.ts";
import { useMe } from "../auth/use-me.ts";
import { openShortcuts } from "./shortcuts.tsx";

export function UserMenu() {
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  const initials = (me.user.name || me.user.email)
    .split(/[\s@.]+/)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? "")
    .join("");
  return (
    <Menu
      label="Account"
      align="end"
      items={[
        { heading: me.user.name ? `${me.user.name} · ${me.user.email}` : me.user.email },
        { label: "Account", icon: <SettingsIcon />, onSelect: () => void navigate({ to: "/account" }) },
        { label: "Keyboard shortcuts", icon: <KeyboardIcon />, hint: "?", onSelect: openShortcuts },
        { label: "Log out", icon: <LogoutIcon />, onSelect: () => void logout() },
      ]}
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
