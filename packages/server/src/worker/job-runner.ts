import { mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createDefaultTools, runAgent } from "@kiln/agent";
import type { AgentEvent, Job, JobFailureCode, JobResult, WorkerJobEvent } from "@kiln/protocol";
import { systemPrompt } from "../chats/system-prompt.ts";
import type { RuntimeDriver } from "../runtime/driver.ts";
import { chownWorkspace } from "../runtime/workspace-owner.ts";
import { git, gitOk } from "./git.ts";
import { sandboxedWorkspace } from "./workspace.ts";

export interface JobAssignment {
  job: Job;
  attempt: number;
  branch: string;
  repoUrl: string;
  modelProxyUrl: string;
  jobToken: string;
}

export type JobOutcome =
  | { ok: true; result: JobResult }
  | { ok: false; code: JobFailureCode; message: string; cancelled?: boolean };

export interface JobRunnerDeps {
  driver: RuntimeDriver;
  /** Where clones live while a job runs (removed afterwards). */
  workDir: string;
  emit(event: WorkerJobEvent): void;
  signal: AbortSignal;
  maxSteps?: number;
}

const EXCLUDED = [":(exclude)node_modules", ":(exclude).kiln"];

/**
 * One job attempt on a worker: clone the project over git smart HTTP with the job's token, work on the
 * job's branch with the agent loop (model calls through the server's proxy, commands in this host's
 * sandbox), commit and push the branch, and report the summary. Never throws: failures are outcomes.
 */
export async function runJob(a: JobAssignment, deps: JobRunnerDeps): Promise<JobOutcome> {
  const dir = await mkdtemp(path.join(deps.workDir, "job-"));
  const step = (name: string, detail?: string) =>
    deps.emit({
      type: "step",
      name,
      status: "started",
      ...(detail ? { detail: detail.slice(0, 4000) } : {}),
    });
  try {
    step("clone", a.repoUrl);
    const clone = await git(deps.workDir, ["clone", "--quiet", a.repoUrl, dir], {
      token: a.jobToken,
      allowTransport: true,
    });
    if (clone.code !== 0)
      return { ok: false, code: "git_unavailable", message: clone.stderr.trim().slice(-500) };
    // The clone has every branch of the server as origin/*: an earlier attempt's (or a fix job's) work
    // continues where it was pushed, without another round trip to the server.
    const remote = await git(dir, ["rev-parse", "--verify", "-q", `refs/remotes/origin/${a.branch}`]);
    if (remote.code === 0) await gitOk(dir, ["checkout", "-q", "-B", a.branch, `origin/${a.branch}`]);
    else await gitOk(dir, ["checkout", "-q", "-b", a.branch]);
    const owner = deps.driver.workspaceOwner(a.job.projectId);
    if (owner) await chownWorkspace(dir, owner.uid, owner.gid);

    const workspace = sandboxedWorkspace(dir, a.job.projectId, deps.driver, owner);
    const provider = createOpenAICompatible({
      name: "kiln",
      baseURL: a.modelProxyUrl,
      apiKey: a.jobToken,
      includeUsage: true,
    });
    const review = a.job.kind === "review";
    const guide = await readFile(path.join(dir, "KILN.md"), "utf8").catch(() => undefined);
    let lastText = "";
    step("agent", `${a.job.kind} on ${a.branch}`);
    const run = await runAgent({
      model: provider.chatModel("default"),
      modelId: "default",
      system: [
        systemPrompt({
          project: { name: a.job.projectId, slug: a.job.projectId, template: "unknown", description: "" },
          guide,
          mode: review ? "plan" : "allow",
        }),
        "",
        review
          ? `You are reviewing the work on branch ${a.branch}. Compare it with main (\`git diff main...HEAD\` via bash is not available in plan mode; read the changed files) and report concrete problems and suggestions.`
          : `You work on branch ${a.branch} for a task on the project's board. Make the change completely; your work is committed and pushed for review when you finish.`,
      ].join("\n"),
      messages: [{ role: "user", content: a.job.instructions || "Do the task." }],
      tools: createDefaultTools().filter((t) => !review || !t.mutates),
      workspace,
      mode: review ? "plan" : "allow",
      approve: async () => "approve",
      messageId: `${a.job.id}:${a.attempt}`,
      maxSteps: deps.maxSteps ?? 40,
      signal: deps.signal,
      onEvent: (event: AgentEvent) => {
        if (event.type === "text-delta") lastText += event.delta;
        if (event.type === "tool-call-start") lastText = "";
        deps.emit({ type: "agent", event });
      },
    });
    if (run.status === "cancelled")
      return { ok: false, code: "cancelled", message: "cancelled", cancelled: true };
    if (run.status !== "completed") {
      const code: JobFailureCode =
        run.reason === "model_error"
          ? "provider_unavailable"
          : run.reason === "step_limit"
            ? "step_limit"
            : "agent_failed";
      return { ok: false, code, message: run.detail ?? run.reason };
    }
    const summary = lastText.trim() || "The agent finished without a summary.";
    if (review) return { ok: true, result: { summary, branch: null, commit: null } };

    step("commit");
    await gitOk(dir, ["add", "-A", "--", ".", ...EXCLUDED]);
    const staged = await git(dir, ["diff", "--cached", "--quiet"]);
    if (staged.code !== 0) {
      const title = summary.split("\n")[0]!.slice(0, 72);
      await gitOk(dir, ["commit", "-q", "-m", `${title}\n\n${summary}\n\nKiln-Job: ${a.job.id}`]);
    }
    const commit = (await gitOk(dir, ["rev-parse", "HEAD"])).trim();
    step("push", a.branch);
    const push = await git(dir, ["push", "--quiet", "origin", `HEAD:refs/heads/${a.branch}`], {
      token: a.jobToken,
      allowTransport: true,
    });
    if (push.code !== 0) return { ok: false, code: "push_rejected", message: push.stderr.trim().slice(-500) };
    return { ok: true, result: { summary: summary.slice(0, 20_000), branch: a.branch, commit } };
  } catch (err) {
    if (deps.signal.aborted) return { ok: false, code: "cancelled", message: "cancelled", cancelled: true };
    return { ok: false, code: "worker_error", message: (err as Error).message.slice(0, 4000) };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
