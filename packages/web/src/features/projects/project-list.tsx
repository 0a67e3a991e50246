import type { Project } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { describeError } from "../../api/errors.ts";
import { projectsQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { GridIcon, MoreIcon, PlusIcon, SearchIcon, TrashIcon } from "../../ui/icons.tsx";
import { Input } from "../../ui/input.tsx";
import { Menu } from "../../ui/menu.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { CreateProjectDialog } from "./create-project-dialog.tsx";
import { DeleteProjectDialog } from "./delete-project-dialog.tsx";
import { ImportGitButton } from "./import-git-dialog.tsx";
import { ImportZipButton } from "./import-zip-button.tsx";
import { TemplateArt } from "./template-art.tsx";
import { relativeTime } from "./time.ts";

export function ProjectList({
  org,
  canWrite,
  canDelete,
}: {
  org: string;
  canWrite: boolean;
  canDelete: boolean;
}) {
  const projects = useQuery(projectsQuery(org));
  const [search, setSearch] = useState("");
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project>();

  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    const list = [...(projects.data ?? [])].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    if (!q) return list;
    return list.filter((p) => `${p.name} ${p.slug} ${p.description} ${p.template}`.toLowerCase().includes(q));
  }, [projects.data, search]);

  return (
    <section className="mx-auto w-full max-w-6xl px-4 py-6 sm:px-6 sm:py-8">
      <div className="mb-5 flex flex-wrap items-center gap-3">
        <h1 className="mr-auto text-lg font-semibold text-neutral-50">Projects</h1>
        <div className="relative w-full sm:w-64">
          <SearchIcon className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-neutral-500" />
          <Input
            type="search"
            aria-label="Search projects"
            placeholder="Search projects"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            className="pl-8"
          />
        </div>
        {canWrite && <ImportZipButton org={org} />}
        {canWrite && <ImportGitButton org={org} />}
        {canWrite && (
          <Button
            variant="primary"
            size="md"
            icon={<PlusIcon />}
            onClick={() => setCreating(true)}
            className="w-full sm:w-auto"
          >
            New project
          </Button>
        )}
      </div>

      {projects.isPending ? (
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-busy="true">
          {[0, 1, 2].map((i) => (
            <div key={i} className="h-[196px] animate-pulse rounded-lg border border-line bg-surface-1" />
          ))}
        </div>
      ) : projects.isError ? (
        <ErrorState
          title="Could not load projects"
          message={describeError(projects.error)}
          onRetry={() => projects.refetch()}
        />
      ) : projects.data.length === 0 ? (
        <div className="rounded-lg border border-dashed border-line">
          <EmptyState
            icon={<GridIcon className="size-8" />}
            title="No projects yet"
            description="Create one from a template: a React app, a static site or a small Node API. It runs in its own sandbox with a live preview."
            action={
              canWrite && (
                <Button variant="primary" icon={<PlusIcon />} onClick={() => setCreating(true)}>
                  Create your first project
                </Button>
              )
            }
          />
        </div>
      ) : shown.length === 0 ? (
        <EmptyState
          title={`No project matches “${search}”`}
          description="Try another word, or clear the search."
        />
      ) : (
        <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          {shown.map((p) => (
            <li
              key={p.id}
              className="group relative rounded-lg border border-line bg-surface-1 transition-colors hover:border-neutral-600"
            >
              <Link
                to="/$org/$project"
                params={{ org, project: p.slug }}
                className="flex flex-col gap-3 p-3 outline-none"
                aria-label={`Open ${p.name}`}
              >
                <TemplateArt
                  name={p.template}
                  className="h-28 w-full opacity-90 transition-opacity group-hover:opacity-100"
                />
                <div className="min-w-0 pr-8">
                  <p className="truncate text-sm font-medium text-neutral-100">{p.name}</p>
                  <p className="mt-0.5 truncate text-xs text-neutral-500">
                    {p.template} · updated {relativeTime(p.updatedAt)}
                  </p>
                </div>
              </Link>
              {canDelete && (
                <div className="absolute right-2 bottom-3">
                  <Menu
                    label={`${p.name} actions`}
                    align="end"
                    items={[
                      {
                        label: "Delete project…",
                        icon: <TrashIcon />,
                        danger: true,
                        onSelect: () => setDeleting(p),
                      },
                    ]}
                    trigger={(props) => (
                      <button
                        type="button"
                        {...props}
                        aria-label={`${p.name} actions`}
                        className="flex size-7 items-center justify-center rounded text-neutral-500 hover:bg-tint/8 hover:text-neutral-100"
                      >
                        <MoreIcon />
                      </button>
                    )}
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <CreateProjectDialog org={org} open={creating} onClose={() => setCreating(false)} />
      <DeleteProjectDialog org={org} project={deleting} onClose={() => setDeleting(undefined)} />
    </section>
  );
}
