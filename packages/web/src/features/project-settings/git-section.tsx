import { Link } from "@tanstack/react-router";
import { Button } from "../../ui/button.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "../settings/section.tsx";
import { cloneCommand } from "./git-clone.ts";

/** The project's repository over git: the clone command, and how git signs in. */
export function GitSection({ org, project, canWrite }: { org: string; project: string; canWrite: boolean }) {
  const command = cloneCommand(window.location.origin, org, project);
  const copy = () =>
    void navigator.clipboard?.writeText(command).then(
      () => toast.success("Clone command copied"),
      () => toast.error("Could not copy; select the command and copy it yourself"),
    );

  return (
    <Section
      title="Git"
      description="The project is a git repository: clone it, work with your own tools, push back."
    >
      <div className="flex max-w-2xl items-center gap-2 rounded-lg border border-line bg-surface-0 p-2">
        <code
          data-testid="clone-command"
          className="flex-1 truncate px-1 font-mono text-[12px] text-neutral-200 select-all"
          title={command}
        >
          {command}
        </code>
        <Button size="xs" onClick={copy} aria-label="Copy the clone command">
          Copy
        </Button>
      </div>
      <div className="max-w-2xl text-xs leading-relaxed text-neutral-400">
        <p>
          When git asks for a password, use a personal API token (any user name will do; create one under{" "}
          <Link to="/account" hash="tokens" className="text-accent-400 hover:underline">
            Account → Personal API tokens
          </Link>
          ). A credential helper can remember it:{" "}
          <code className="font-mono">git config credential.helper store</code>.
        </p>
        <p className="mt-1.5">
          Every member can clone and fetch; {canWrite ? "you can" : "developers, admins and owners can"} push.
          A push to <code className="font-mono">main</code> updates the workspace (refused while the workspace
          has changes not yet committed); other branches are stored for review. Environment variables are not
          part of the repository.
        </p>
      </div>
    </Section>
  );
}
