import type { Project } from "@kiln/protocol";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "../settings/section.tsx";
import { useUpdateProject } from "./mutations.ts";

const textarea =
  "w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 placeholder:text-neutral-500 focus:border-accent-500 focus:outline-none disabled:opacity-60";

/** Name, URL name (slug) and description; a new slug moves the page (and every link) to it. */
export function GeneralSection({
  org,
  project,
  canWrite,
}: {
  org: string;
  project: Project;
  canWrite: boolean;
}) {
  const update = useUpdateProject(org, project.slug);
  const navigate = useNavigate();
  const [name, setName] = useState(project.name);
  const [slug, setSlug] = useState(project.slug);
  const [description, setDescription] = useState(project.description);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const changed =
    name.trim() !== project.name || slug !== project.slug || description !== project.description;

  const save = (e: FormEvent) => {
    e.preventDefault();
    setErrors({ fields: {} });
    const body = {
      ...(name.trim() !== project.name ? { name: name.trim() } : {}),
      ...(slug !== project.slug ? { slug } : {}),
      ...(description !== project.description ? { description } : {}),
    };
    update.mutate(body, {
      onSuccess: (updated) => {
        toast.success("Saved");
        if (updated.slug !== project.slug) {
          void navigate({
            to: "/$org/$project/settings",
            params: { org, project: updated.slug },
            replace: true,
          });
        }
      },
      onError: (err) =>
        setErrors(
          isApiError(err, "slug_taken")
            ? { fields: { slug: "Another project here already has this URL name." } }
            : isApiError(err, "slug_reserved")
              ? { fields: { slug: err.message } }
              : errorsFromApi(err),
        ),
    });
  };

  return (
    <Section title="General" description="How the project is named in the studio and in its addresses.">
      <form onSubmit={save} className="flex max-w-lg flex-col gap-4" aria-label="General settings">
        <Field label="Project name" error={errors.fields.name}>
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              disabled={!canWrite}
              required
              maxLength={100}
            />
          )}
        </Field>
        <Field
          label="URL name"
          error={errors.fields.slug}
          hint="Part of the workspace, preview and git addresses. Links with the old name stop working."
        >
          {(id) => (
            <Input
              id={id}
              value={slug}
              onChange={(e) => setSlug(e.target.value.toLowerCase())}
              disabled={!canWrite}
              required
              maxLength={39}
              spellCheck={false}
              className="font-mono"
            />
          )}
        </Field>
        <Field label="Description" error={errors.fields.description}>
          {(id) => (
            <textarea
              id={id}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              disabled={!canWrite}
              maxLength={2000}
              rows={3}
              placeholder="What this app is for"
              className={textarea}
            />
          )}
        </Field>
        {errors.form && (
          <p role="alert" className="text-xs text-red-400">
            {errors.form}
          </p>
        )}
        {canWrite && (
          <div>
            <Button
              type="submit"
              variant="primary"
              loading={update.isPending}
              disabled={!changed || !name.trim()}
            >
              Save
            </Button>
          </div>
        )}
      </form>
    </Section>
  );
}
