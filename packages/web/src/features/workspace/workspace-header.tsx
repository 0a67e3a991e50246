import { can } from "@kiln/protocol";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { useProject } from "../../state/project-context.tsx";
import { useWorkspaceUi } from "../../state/ui-store.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import {
  ChatIcon,
  ExternalIcon,
  FolderIcon,
  GridIcon,
  KilnLogo,
  MenuIcon,
  MonitorIcon,
  RefreshIcon,
  SettingsIcon,
  TerminalIcon,
} from "../../ui/icons.tsx";
import { Menu } from "../../ui/menu.tsx";
import { toast } from "../../ui/toast.tsx";
import { useMe } from "../auth/use-me.ts";
import { UpdateBadge } from "../marketplace/update-badge.tsx";
import { PublishDialog } from "../publish/publish-dialog.tsx";
import { StatusPill } from "../runtime/status-pill.tsx";
import { useRuntime, useRuntimeAction } from "../runtime/use-runtime.ts";
import { UserMenu } from "../shell/user-menu.tsx";

export function WorkspaceHeader({ view }: { view: "code" | "board" }) {
  const { org, project, details, canWrite, role } = useProject();
  const [publishing, setPublishing] = useState(false);
  const me = useMe();
  const orgName = me.orgs.find((o) => o.slug === org)?.name ?? org;
  const runtime = useRuntime(org, project);
  const act = useRuntimeAction(org, project);
  const ui = useWorkspaceUi();
  const navigate = useNavigate();

  const restart = () => act.mutate("restart", { onSuccess: () => toast.info("Restarting the dev server…") });

  return (
    <header className="flex h-11 shrink-0 items-center gap-2 border-b border-line bg-surface-1 px-3">
      <Link to="/$org" params={{ org }} aria-label="All projects" title="All projects">
        <KilnLogo className="size-6" />
      </Link>
      <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-1.5 text-[13px]">
        <Link
          to="/$org"
          params={{ org }}
          className="truncate text-neutral-400 hover:text-neutral-100 max-md:hidden"
        >
          {orgName}
        </Link>
        <span className="text-neutral-700 max-md:hidden">/</span>
        <h1 className="truncate font-medium text-neutral-100">{details.name}</h1>
      </nav>
      <div className="ml-3 shrink-0 max-md:ml-1">
        <StatusPill state={runtime.data?.state} detail={runtime.data?.detail} />
      </div>
      {canWrite && (
        <Button
          size="xs"
          variant="ghost"
          icon={<RefreshIcon className="size-3" />}
          onClick={restart}
          title="Restart the dev server"
          className="max-md:hidden"
        >
          Restart
        </Button>
      )}
      <div className="ml-auto flex shrink-0 items-center gap-0.5">
        <span className="mr-1.5 max-md:hidden">
          <UpdateBadge org={org} project={project} />
        </span>
        <Button
          size="xs"
          variant="primary"
          className="mr-1.5"
          icon={<ExternalIcon className="size-3" />}
          onClick={() => setPublishing(true)}
          title="Publish this app at its public address"
        >
          Publish
        </Button>
        <PublishDialog
          org={org}
          project={project}
          open={publishing}
          onClose={() => setPublishing(false)}
          canPublish={can(role, "projects.publish")}
        />
        {/* A narrow screen has the tab bar below for the panes, and this menu for the rest. */}
        <Menu
          label="Workspace menu"
          align="end"
          className="md:hidden"
          items={[
            ...(canWrite
              ? [{ label: "Restart the dev server", icon: <RefreshIcon />, onSelect: restart }]
              : []),
            {
              label: "All projects",
              icon: <GridIcon />,
              onSelect: () => void navigate({ to: "/$org", params: { org } }),
            },
            {
              label: "Project settings",
              icon: <SettingsIcon />,
              onSelect: () => void navigate({ to: "/$org/$project/settings", params: { org, project } }),
            },
            {
              label: "Organization settings",
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
        <div className="flex items-center gap-0.5 max-md:hidden">
          <Link
            to="/$org/$project"
            params={{ org, project }}
            search={view === "board" ? {} : { view: "board" }}
            aria-pressed={view === "board"}
            className={cn(
              "mr-2 flex h-7 items-center gap-1.5 rounded-md px-2 text-xs",
              view === "board" ? "bg-accent-600/20 text-accent-200" : "text-neutral-300 hover:bg-tint/6",
            )}
          >
            <GridIcon className="size-3.5" />
            {view === "board" ? "Back to code" : "Board"}
          </Link>
          {view === "code" && (
            <>
              <IconButton
                label="Toggle chat"
                active={ui.chatOpen}
                aria-pressed={ui.chatOpen}
                onClick={() => ui.set({ chatOpen: !ui.chatOpen })}
              >
                <ChatIcon className="size-3.5" />
              </IconButton>
              <IconButton
                label="Toggle files"
                active={ui.filesOpen}
                aria-pressed={ui.filesOpen}
                onClick={() => ui.set({ filesOpen: !ui.filesOpen })}
              >
                <FolderIcon className="size-3.5" />
              </IconButton>
              <IconButton
                label="Toggle terminal (Ctrl+`)"
                active={ui.bottomOpen}
                aria-pressed={ui.bottomOpen}
                onClick={() => ui.set({ bottomOpen: !ui.bottomOpen })}
              >
                <TerminalIcon className="size-3.5" />
              </IconButton>
              <IconButton
                label="Toggle preview"
                active={ui.previewOpen}
                aria-pressed={ui.previewOpen}
                onClick={() => ui.set({ previewOpen: !ui.previewOpen })}
              >
                <MonitorIcon className="size-3.5" />
              </IconButton>
            </>
          )}
          <Link
            to="/$org/$project/settings"
            params={{ org, project }}
            aria-label="Project settings"
            title="Project settings"
            className="ml-1 flex size-7 items-center justify-center rounded-md text-neutral-400 hover:bg-tint/6 hover:text-neutral-100"
          >
            <SettingsIcon className="size-3.5" />
          </Link>
        </div>
        <span className="mx-2 h-5 w-px bg-line max-md:mx-1" />
        <UserMenu />
      </div>
    </header>
  );
}
