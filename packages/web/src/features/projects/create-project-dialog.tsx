import type { Template } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useEffect, useState } from "react";
import { describeError, isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { Spinner } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useCreateProject } from "./mutations.ts";
import { creatingLabel, preparingPercent } from "./preparing.ts";
import { templatesQuery } from "./queries.ts";
import { TemplateArt } from "./template-art.tsx";

export function CreateProjectDialog({
  org,
  open,
  onClose,
}: {
  org: string;
  open: boolean;
  onClose: () => void;
}) {
  const create = useCreateProject(org);
  // While a create waits on a new server's first dependency install, the list says how far it is.
  const templates = useQuery({
    ...templatesQuery,
    enabled: open,
    refetchInterval: create.isPending ? 500 : false,
  });
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [template, setTemplate] = useState<string>();
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });

  useEffect(() => {
    if (!template && templates.data?.length) {
      setTemplate((templates.data.find((t) => t.name === "react-vite") ?? templates.data[0])?.name);
    }
  }, [templates.data, template]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!template) return;
    setErrors({ fields: {} });
    create.mutate(
      { name: name.trim(), template },
      {
        onSuccess: (project) => {
          onClose();
          setName("");
          void navigate({ to: "/$org/$project", params: { org, project: project.slug } });
        },
        onError: (err) =>
          setErrors(
            isApiError(err, "slug_taken")
              ? { fields: { name: "A project with this name already exists here." } }
              : errorsFromApi(err),
          ),
      },
    );
  };
  const busy = create.isPending;
  const preparing = busy ? preparingPercent(templates.data, template) : undefined;

  return (
    <Dialog
      open={open}
      onClose={busy ? () => {} : onClose}
      title="New project"
      description="Start from a template; the dev server and preview come up on their own."
      className="w-[min(44rem,calc(100vw-2rem))]"
    >
      <form id="create-project" onSubmit={submit} className="flex flex-col gap-5">
        <Field
          label="Project name"
          error={errors.fields.name ?? errors.form ?? Object.values(errors.fields)[0]}
        >
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
              required
              maxLength={100}
              placeholder="Habit tracker"
            />
          )}
        </Field>
        <fieldset>
          <legend className="mb-2 text-xs font-medium text-neutral-300">Template</legend>
          {templates.isPending ? (
            <div className="flex h-40 items-center justify-center">
              <Spinner label="Loading templates" />
            </div>
          ) : templates.isError ? (
            <ErrorState
              title="Could not load templates"
              message={describeError(templates.error)}
              onRetry={() => templates.refetch()}
            />
          ) : (
            <div className="grid gap-3 sm:grid-cols-3">
              {templates.data.map((t) => (
                <TemplateOption
                  key={t.name}
                  template={t}
                  selected={t.name === template}
                  onSelect={() => setTemplate(t.name)}
                />
              ))}
            </div>
          )}
        </fieldset>
      </form>
      <div className="mt-5 flex justify-end gap-2">
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button
          type="submit"
          form="create-project"
          variant="primary"
          loading={busy}
          disabled={!name.trim() || !template}
        >
          {busy ? creatingLabel(preparing, "Creating…") : "Create project"}
        </Button>
      </div>
    </Dialog>
  );
}

function TemplateOption({
  template,
  selected,
  onSelect,
}: {
  template: Template;
  selected: boolean;
  onSelect: () => void;
}) {
  return (
    <label
      data-template={template.name}
      className={cn(
        "flex cursor-pointer flex-col gap-2 rounded-lg border p-2.5 text-left transition-colors has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-accent-500",
        selected
          ? "border-accent-500 bg-accent-500/8 ring-1 ring-accent-500/50"
          : "border-line bg-surface-0/60 hover:border-neutral-600",
      )}
    >
      <input
        type="radio"
        name="template"
        value={template.name}
        checked={selected}
        onChange={onSelect}
        className="sr-only"
      />
      <TemplateArt name={template.name} className="h-24 w-full" />
      <span className="text-[13px] font-medium text-neutral-100">{template.title}</span>
      <span className="text-xs leading-snug text-neutral-400">{template.description}</span>
    </label>
  );
}
