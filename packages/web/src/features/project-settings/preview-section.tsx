import type { Project } from "@kiln/protocol";
import { useState } from "react";
import { describeError } from "../../api/errors.ts";
import { cn } from "../../ui/cn.ts";
import { toast } from "../../ui/toast.tsx";
import { useRuntime } from "../runtime/use-runtime.ts";
import { Section } from "../settings/section.tsx";
import { useUpdateProject } from "./mutations.ts";

/** Who may open the preview: members only (the default) or anyone with its address. */
export function PreviewSection({
  org,
  project,
  canPublish,
}: {
  org: string;
  project: Project;
  canPublish: boolean;
}) {
  const update = useUpdateProject(org, project.slug);
  const runtime = useRuntime(org, project.slug);
  const [error, setError] = useState<string>();
  const isPublic = project.previewPublic;
  const url = runtime.data?.previewUrl;

  const toggle = () => {
    setError(undefined);
    update.mutate(
      { previewPublic: !isPublic },
      {
        onSuccess: (updated) =>
          toast.success(updated.previewPublic ? "The preview is public" : "The preview is private"),
        onError: (err) => setError(describeError(err)),
      },
    );
  };

  return (
    <Section
      title="Preview access"
      description={
        url ? (
          <>
            The running app at <span className="font-mono text-neutral-400">{url}</span>
          </>
        ) : (
          "Who may open the running app."
        )
      }
    >
      <div className="flex max-w-lg items-start gap-3 rounded-lg border border-line p-3">
        <button
          type="button"
          role="switch"
          aria-checked={isPublic}
          aria-label="Public preview"
          disabled={!canPublish || update.isPending}
          onClick={toggle}
          className={cn(
            "relative mt-0.5 h-5 w-9 shrink-0 rounded-full transition-colors disabled:cursor-not-allowed disabled:opacity-60",
            isPublic ? "bg-accent-600" : "bg-neutral-700",
          )}
        >
          <span
            className={cn(
              "absolute top-0.5 left-0.5 size-4 rounded-full bg-white transition-transform",
              isPublic && "translate-x-4",
            )}
          />
        </button>
        <div className="flex-1 text-xs">
          <p className="text-[13px] font-medium text-neutral-100" data-testid="preview-access">
            {isPublic ? "Public: anyone with the link" : "Private: members of this organization"}
          </p>
          <p className="mt-1 text-neutral-400">
            {isPublic
              ? "Anyone who has the preview address can open and use the app, without signing in. Share it for demos and feedback; the workspace, files and settings stay private."
              : "Only signed-in members of this organization can open the preview. Make it public to share the app with people outside it."}
          </p>
          {!canPublish && (
            <p className="mt-1 text-neutral-500">Only an admin or owner can change who sees the preview.</p>
          )}
          {error && (
            <p role="alert" className="mt-1 text-red-400">
              {error}
            </p>
          )}
        </div>
      </div>
    </Section>
  );
}
