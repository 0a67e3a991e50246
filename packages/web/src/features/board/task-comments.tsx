import type { Member } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import Markdown from "react-markdown";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { actorName } from "./actor-name.ts";
import { useJobAgentName } from "./agent-options.tsx";
import { DrawerSection } from "./drawer-section.tsx";
import { useAddComment } from "./mutations.ts";
import { commentsQuery } from "./queries.ts";

/** A task's comments, and a form to add one for whoever may write. */
export function TaskComments({
  taskId,
  members,
}: {
  taskId: string;
  members: readonly Member[] | undefined;
}) {
  const { org, project, canWrite } = useProject();
  const add = useAddComment();
  const comments = useQuery(commentsQuery(org, project, taskId));
  const [body, setBody] = useState("");
  const jobAgent = useJobAgentName(taskId);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim()) return;
    add.mutate({ taskId, body }, { onSuccess: () => setBody("") });
  };

  return (
    <DrawerSection title="Comments">
      <ol className="flex flex-col gap-2">
        {comments.data?.map((c) => (
          <li
            key={c.id}
            data-testid="comment"
            className="rounded-md border border-line bg-surface-2 px-3 py-2"
          >
            <p className="text-[11px] text-neutral-500">
              <span className={c.author.type === "agent" ? "text-purple-300" : "text-neutral-300"}>
                {actorName(c.author, members, jobAgent)}
              </span>{" "}
              · {new Date(c.createdAt).toLocaleString()}
            </p>
            <div className="prose-kiln mt-1 text-[13px] text-neutral-200">
              <Markdown>{c.body}</Markdown>
            </div>
          </li>
        ))}
        {comments.data?.length === 0 && <li className="text-xs text-neutral-600">No comments yet.</li>}
      </ol>
      {canWrite && (
        <form onSubmit={submit} className="flex flex-col gap-2">
          <textarea
            aria-label="Add a comment"
            value={body}
            onChange={(e) => setBody(e.target.value)}
            rows={3}
            placeholder="Add a comment (markdown)"
            className="w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none"
          />
          <Button
            type="submit"
            size="sm"
            className="self-end"
            loading={add.isPending}
            disabled={!body.trim()}
          >
            Comment
          </Button>
        </form>
      )}
    </DrawerSection>
  );
}
