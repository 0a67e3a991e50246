import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { SparkIcon } from "../../ui/icons.tsx";
import { Select } from "../../ui/input.tsx";
import { creatingLabel, preparingPercent } from "../projects/preparing.ts";
import { templatesQuery } from "../projects/queries.ts";
import { useStartProject } from "./mutations.ts";

const EXAMPLES = [
  "A habit tracker with a streak counter",
  "A REST API for my recipes",
  "A static page for my bakery with opening hours",
];

/** Refusals that mean no model can answer yet: the fix is in the org's model settings. */
const MODEL_ERRORS: readonly string[] = [
  "model_not_configured",
  "model_not_found",
  "provider_not_found",
  "provider_auth_failed",
];

/**
 * The prompt-first start: describe the app, and the server picks a template (unless one is chosen here),
 * names and creates the project and sends the description to the agent; the workspace opens on that turn
 * with the preview starting.
 */
export function PromptStart({ org, hero }: { org: string; hero: boolean }) {
  const start = useStartProject(org);
  // While the start waits on a new server's first dependency install, the list says how far it is.
  const templates = useQuery({ ...templatesQuery, refetchInterval: start.isPending ? 500 : false });
  const navigate = useNavigate();
  const [prompt, setPrompt] = useState("");
  const [template, setTemplate] = useState("");
  const [errors, setErrors] = useState<FormErrors & { model?: boolean }>({ fields: {} });
  const titleId = useId();
  const errorId = useId();
  const box = useRef<HTMLTextAreaElement>(null);
  // On the first screen the box is the one thing to do: the keyboard starts there.
  useEffect(() => {
    if (hero) box.current?.focus();
  }, [hero]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!prompt.trim() || start.isPending) return;
    setErrors({ fields: {} });
    start.mutate(
      { prompt: prompt.trim(), ...(template ? { template } : {}) },
      {
        onSuccess: ({ project }) =>
          void navigate({ to: "/$org/$project", params: { org, project: project.slug } }),
        onError: (err) =>
          setErrors(
            isApiError(err) && MODEL_ERRORS.includes(err.code)
              ? { fields: {}, form: "No AI model is set up for this organization yet.", model: true }
              : errorsFromApi(err),
          ),
      },
    );
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) submit(e);
  };
  const message = errors.fields.prompt ?? errors.fields.template ?? errors.form;
  const preparing = start.isPending ? preparingPercent(templates.data, template || undefined) : undefined;

  return (
    <section
      aria-labelledby={titleId}
      className={cn("mx-auto w-full max-w-3xl px-4 sm:px-6", hero ? "pt-12 pb-4 sm:pt-16" : "pt-8")}
    >
      <h2
        id={titleId}
        className={cn(
          "text-center font-semibold tracking-tight text-neutral-50",
          hero ? "text-3xl" : "text-xl",
        )}
      >
        What do you want to build?
      </h2>
      {hero && (
        <p className="mt-2 text-center text-sm text-neutral-400">
          Describe your app. Kiln picks a template, names the project, and the agent starts building while the
          preview comes up.
        </p>
      )}
      <form
        onSubmit={submit}
        data-focus-ring="within"
        className="mt-5 rounded-xl border border-line bg-surface-1 p-3 shadow-lg focus-within:border-accent-500/70"
      >
        <textarea
          ref={box}
          aria-labelledby={titleId}
          aria-describedby={message ? errorId : undefined}
          aria-invalid={message ? true : undefined}
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={onKeyDown}
          rows={hero ? 3 : 2}
          maxLength={100_000}
          placeholder="A habit tracker with a streak counter…"
          className="block w-full resize-none bg-transparent px-1 text-[15px] text-neutral-100 placeholder:text-neutral-500 focus:outline-none"
        />
        <div className="mt-2 flex flex-wrap items-center gap-2">
          <Select
            aria-label="Template"
            value={template}
            onChange={(e) => setTemplate(e.target.value)}
            className="h-8 w-auto text-xs"
          >
            <option value="">Template: picked from your words</option>
            {templates.data?.map((t) => (
              <option key={t.name} value={t.name}>
                Template: {t.title}
              </option>
            ))}
          </Select>
          <span className="mr-auto hidden text-xs text-neutral-500 sm:inline">
            Enter to start · Shift+Enter for a new line
          </span>
          <Button
            type="submit"
            variant="primary"
            size="md"
            icon={<SparkIcon className="size-4" />}
            loading={start.isPending}
            disabled={!prompt.trim()}
          >
            {start.isPending ? creatingLabel(preparing, "Creating your project…") : "Build it"}
          </Button>
        </div>
      </form>
      {message && (
        <p id={errorId} role="alert" className="mt-2 text-sm text-red-400">
          {message}{" "}
          {errors.model && (
            <Link to="/$org/settings" params={{ org }} search={{ tab: "models" }} className="underline">
              Add one in Settings → Models
            </Link>
          )}
        </p>
      )}
      {hero && (
        <div className="mt-3 flex flex-wrap justify-center gap-2">
          {EXAMPLES.map((example) => (
            <button
              key={example}
              type="button"
              onClick={() => setPrompt(example)}
              className="rounded-full border border-line px-3 py-1 text-xs text-neutral-400 hover:border-neutral-600 hover:text-neutral-200"
            >
              {example}
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
