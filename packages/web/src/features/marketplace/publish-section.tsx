import type { ListingVisibility } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { Section } from "../settings/section.tsx";
import { usePublishTemplate } from "./mutations.ts";
import { UpdateBadge } from "./update-badge.tsx";

/** Project settings → "Publish as template": the project's files (no secrets) as a marketplace listing. */
export function PublishTemplateSection({
  org,
  project,
  projectName,
  canPublish,
}: {
  org: string;
  project: string;
  projectName: string;
  canPublish: boolean;
}) {
  const { data: state } = useQuery({
    queryKey: keys.projectMarketplace(org, project),
    queryFn: () => api.marketplace.project(org, project),
  });
  const published = state?.published;
  const [name, setName] = useState<string | undefined>();
  const [description, setDescription] = useState<string | undefined>();
  const [visibility, setVisibility] = useState<ListingVisibility | undefined>();
  const publish = usePublishTemplate(org, project);
  const body = {
    name: name ?? published?.name ?? projectName,
    description: description ?? published?.description ?? "",
    visibility: visibility ?? published?.visibility ?? "org",
  };
  return (
    <Section
      title="Marketplace"
      description="Publish the project as a template other projects start from: its files without .env files, installed dependencies or build output. Publishing again makes a new version. Templates for every org wait for the instance admin's approval."
    >
      {state?.installedFrom && (
        <p className="flex items-center gap-2 text-xs text-neutral-400" data-testid="installed-from">
          Installed from “{state.installedFrom.name}” version {state.installedFrom.version}
          <UpdateBadge org={org} project={project} />
        </p>
      )}
      {published && (
        <p className="text-xs text-neutral-400" data-testid="published-listing">
          Published as “{published.name}”, version {published.latestVersion}
          {published.status === "pending" ? " (awaiting approval)" : ""} · {published.installs}{" "}
          {published.installs === 1 ? "install" : "installs"}
        </p>
      )}
      {canPublish && (
        <form
          aria-label="Publish as template"
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            publish.mutate(body);
          }}
        >
          <Field label="Template name">
            {(id) => <Input id={id} value={body.name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Template description">
            {(id) => (
              <Input id={id} value={body.description} onChange={(e) => setDescription(e.target.value)} />
            )}
          </Field>
          <Field label="Who sees it">
            {(id) => (
              <Select
                id={id}
                value={body.visibility}
                onChange={(e) => setVisibility(e.target.value as ListingVisibility)}
              >
                <option value="org">This org only</option>
                <option value="instance">Every org on this Kiln (after approval)</option>
              </Select>
            )}
          </Field>
          <div>
            <Button type="submit" variant="primary" loading={publish.isPending} disabled={!body.name.trim()}>
              {published ? "Publish a new version" : "Publish as template"}
            </Button>
          </div>
        </form>
      )}
    </Section>
  );
}
