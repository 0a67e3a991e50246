import type { ApprovalMode, Project } from "@kiln/protocol";

const GUIDE_LIMIT = 12_000;

/**
 * What the agent is told before every turn: its definition's prompt (agents/, ADR 0035), then what Kiln adds
 * for every agent — plan mode's rule, the project, and the project's own guide (KILN.md, which the template
 * ships and the agent keeps current) with the stack-specific rules.
 */
export function systemPrompt(input: {
  agentPrompt: string;
  project: Pick<Project, "name" | "slug" | "template" | "description">;
  guide?: string | undefined;
  mode: ApprovalMode;
}): string {
  const { agentPrompt, project, guide, mode } = input;
  const lines = [agentPrompt];
  if (mode === "plan") {
    lines.push(
      "",
      "PLAN MODE: you may read and inspect, but you must not change files or run commands that change anything. Answer with a concrete plan the user can approve.",
    );
  }
  lines.push(
    "",
    `Project: ${project.name} (slug ${project.slug}), created from the \`${project.template}\` template.`,
  );
  if (project.description) lines.push(`Description: ${project.description}`);
  if (guide) {
    const text = guide.length > GUIDE_LIMIT ? `${guide.slice(0, GUIDE_LIMIT)}\n[…KILN.md cut]` : guide;
    lines.push("", "The project's guide (KILN.md):", "<kiln-md>", text, "</kiln-md>");
  }
  return lines.join("\n");
}
