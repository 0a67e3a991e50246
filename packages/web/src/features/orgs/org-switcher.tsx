import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { ChevronDown, PlusIcon, SettingsIcon } from "../../ui/icons.tsx";
import { Menu, type MenuEntry } from "../../ui/menu.tsx";
import { useMe } from "../auth/use-me.ts";
import { CreateOrgDialog } from "./create-org-dialog.tsx";

export function OrgSwitcher({ current }: { current: string }) {
  const me = useMe();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const active = me.orgs.find((o) => o.slug === current);

  const items: MenuEntry[] = [
    { heading: "Organizations" },
    ...me.orgs.map((o) => ({
      label: o.personal ? `${o.name} (personal)` : o.name,
      hint: o.slug === current ? "✓" : o.role,
      onSelect: () => navigate({ to: "/$org", params: { org: o.slug } }),
    })),
    "separator",
    {
      label: "Organization settings",
      icon: <SettingsIcon />,
      onSelect: () => navigate({ to: "/$org/settings", params: { org: current } }),
    },
    { label: "New organization…", icon: <PlusIcon />, onSelect: () => setCreating(true) },
  ];

  return (
    <>
      <Menu
        label="Switch organization"
        items={items}
        trigger={(props) => (
          <button
            type="button"
            {...props}
            className="flex h-7 max-w-44 sm:max-w-56 items-center gap-2 rounded-md px-2 text-[13px] font-medium text-neutral-200 hover:bg-tint/8"
          >
            <span className="flex size-5 shrink-0 items-center justify-center rounded bg-surface-3 text-[11px] font-semibold uppercase text-neutral-300">
              {(active?.name ?? current).slice(0, 1)}
            </span>
            <span className="truncate">{active?.name ?? current}</span>
            <ChevronDown className="size-3.5 shrink-0 text-neutral-500" />
          </button>
        )}
      />
      <CreateOrgDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
