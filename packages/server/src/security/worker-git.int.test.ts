import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxDriver } from "../sandbox/driver.ts";
import { UnsafeHostDriver } from "../sandbox/unsafe-host-driver.ts";
import { freePort } from "../testing/free-port.ts";
import { apiToken, git, remoteUrl, tempDir } from "../testing/git.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { KilnWorker } from "../worker/client.ts";

/**
 * A job whose agent plants hostile git configuration in its workspace, then does ordinary work. The
 * worker runs as root; nothing the workspace's `.git` says may run a program on its host. Each payload
 * writes a marker into a host directory the sandbox cannot see: a marker means a command ran as root on the
 * host. The job must either push the agent's work or fail cleanly.
 */

const WORKER_TOKEN = randomBytes(24).toString("hex");

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let orgId: string;
let workDir: string;
/** Markers land here (one directory per case); mode 0777 so a payload running as any uid could write. */
let markers: string;
let markerRoot: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  port = await freePort();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_WORKER_TOKEN: WORKER_TOKEN,
      KILN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      // A failed attempt is not tried again: each case's script of model replies is used up once.
      KILN_JOB_MAX_ATTEMPTS: "1",
    },
  });
  await kiln.app.listen({ port, host: "127.0.0.1" });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  orgId = (await owner.client.post("/api/orgs", { name: "Hostile jobs", slug: org })).json().id;
  workDir = await mkdtemp(path.join(os.tmpdir(), "kiln-worker-git-"));
  markerRoot = await mkdtemp(path.join(os.tmpdir(), "kiln-worker-git-markers-"));
  await chmod(markerRoot, 0o755);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
  for (const dir of [workDir, markerRoot]) if (dir) await rm(dir, { recursive: true, force: true });
});

/** A shell command that records which uid ran it as `<markers>/<name>`. */
const mark = (name: string) => `sh -c 'id -u > ${markers}/${name}'`;
/** The same, as a filter: passes the file through. */
const markFilter = (name: string) => `sh -c 'id -u > ${markers}/${name}; cat'`;
/**
 * A script in the workspace, for the places git splits a command on spaces (ext::). Helpers live in
 * `.hostile/`, not `.kiln/`: the template ignores `.kiln`, which made the old worker's `git add` fail first.
 */
const SCRIPT = `mkdir -p .hostile && printf '#!/bin/sh\\nid -u > %s/"$1"\\nexit 0\\n' MARKERS > .hostile/p.sh && chmod +x .hostile/p.sh`;
const script = () => SCRIPT.replace("MARKERS", markers);
const hook = (dir: string, name: string, marker: string) =>
  `mkdir -p ${dir} && printf '#!/bin/sh\\n%s\\n' "${mark(marker).replaceAll('"', '\\"')}" > ${dir}/${name} && chmod +x ${dir}/${name}`;
/** Sandboxed copies of the repository have no origin; give them one so every route can be planted. */
const ORIGIN =
  "(git remote get-url origin >/dev/null 2>&1 || git remote add origin http://127.0.0.1:9/x.git)";

interface Attack {
  name: string;
  plant: () => string;
  /** "pushed": the agent's work reaches its branch; "refused": the job fails without running anything. */
  expect: "pushed" | "refused";
}

const ATTACKS: Attack[] = [
  {
    name: "filter clean and smudge in .git/config with .gitattributes",
    plant: () =>
      [
        `git config filter.x.clean "${markFilter("filter-clean")}"`,
        `git config filter.x.smudge "${markFilter("filter-smudge")}"`,
        "git config filter.x.required true",
        "echo '* filter=x' >> .gitattributes",
      ].join(" && "),
    expect: "pushed",
  },
  {
    name: "a long-running filter process",
    plant: () =>
      [`git config filter.p.process "${mark("filter-process")}"`, "echo '* filter=p' >> .gitattributes"].join(
        " && ",
      ),
    expect: "pushed",
  },
  {
    name: "an ext:: push URL",
    plant: () =>
      `${script()} && ${ORIGIN} && git remote set-url --push origin 'ext::sh .hostile/p.sh ext-push'`,
    expect: "pushed",
  },
  {
    name: "url.<ext::…>.insteadOf and pushInsteadOf rewriting the server's URL",
    plant: () =>
      [
        script(),
        "git config 'url.ext::sh .hostile/p.sh push-instead-of .pushInsteadOf' http",
        "git config 'url.ext::sh .hostile/p.sh instead-of .insteadOf' http",
      ].join(" && "),
    expect: "pushed",
  },
  {
    name: "hooks in .git/hooks and in core.hooksPath",
    plant: () =>
      [
        ...["pre-commit", "post-commit", "reference-transaction", "post-index-change", "pre-push"].flatMap(
          (h) => [hook(".git/hooks", h, `hook-${h}`), hook(".hostile/hooks", h, `hooks-path-${h}`)],
        ),
        "git config core.hooksPath .hostile/hooks",
      ].join(" && "),
    expect: "pushed",
  },
  {
    name: "core.fsmonitor",
    plant: () =>
      `${hook(".hostile", "fsmonitor.sh", "fsmonitor")} && git config core.fsmonitor .hostile/fsmonitor.sh`,
    expect: "pushed",
  },
  {
    name: "core.sshCommand with an ssh push URL",
    plant: () =>
      [
        ORIGIN,
        `git config core.sshCommand "${mark("ssh-command")}"`,
        "git remote set-url --push origin ssh://git@example.invalid/x.git",
      ].join(" && "),
    expect: "pushed",
  },
  {
    name: "diff.external",
    plant: () =>
      `${hook(".hostile", "diff.sh", "diff-external")} && git config diff.external .hostile/diff.sh`,
    expect: "pushed",
  },
  {
    name: "include.path to a file with a filter",
    plant: () =>
      [
        "mkdir -p .hostile",
        // Quoted: an unquoted ';' starts a comment in git's config syntax.
        `printf '[filter "y"]\\n\\tclean = "%s"\\n' "${markFilter("include").replaceAll('"', '\\"')}" > .hostile/inc`,
        "git config include.path ../.hostile/inc",
        "echo '* filter=y' >> .gitattributes",
      ].join(" && "),
    expect: "pushed",
  },
  {
    name: ".git replaced by a symlink to a repository with a filter",
    plant: () =>
      [
        "mkdir -p .kiln && mv .git .kiln/real && ln -s .kiln/real .git",
        `git config filter.z.clean "${markFilter("symlink")}"`,
        "echo '* filter=z' >> .gitattributes",
      ].join(" && "),
    expect: "refused",
  },
  {
    name: ".git replaced by a gitfile pointing at a repository with a filter",
    plant: () =>
      [
        "mkdir -p .kiln && mv .git .kiln/real && echo 'gitdir: .kiln/real' > .git",
        `git config filter.z.clean "${markFilter("gitfile")}"`,
        "echo '* filter=z' >> .gitattributes",
      ].join(" && "),
    expect: "refused",
  },
  {
    name: "a submodule with a filter in its own config",
    plant: () =>
      [
        "git init -q .hostile/sub && git -C .hostile/sub -c user.name=a -c user.email=a@b commit -q --allow-empty -m s",
        'git -c protocol.file.allow=always submodule add -q "$PWD/.hostile/sub" sub',
        `git -C sub config filter.s.clean "${markFilter("submodule")}"`,
        "echo '* filter=s' > sub/.gitattributes && echo changed > sub/f",
      ].join(" && "),
    expect: "pushed",
  },
];

async function untilDone(jobId: string): Promise<Job> {
  const end = Date.now() + 90_000;
  for (;;) {
    const job = (await owner.client.get(`/api/orgs/${org}/jobs/${jobId}`)).json() as Job;
    if (["completed", "failed", "cancelled"].includes(job.state)) return job;
    if (Date.now() > end) throw new Error(`job never ended: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs one job whose agent runs `plant` in bash, then writes note.txt and finishes. */
async function hostileJob(
  driver: SandboxDriver,
  plant: string,
  prepare?: (project: { id: string; slug: string }) => Promise<void>,
) {
  const project = (
    await owner.client.post(`/api/orgs/${org}/projects`, { name: "Target", template: "static" })
  ).json() as { id: string; slug: string };
  await prepare?.(project);
  fake.reset();
  fake.enqueue(
    { toolCalls: [{ name: "bash", arguments: { command: `${plant} && echo PLANTED` } }] },
    { toolCalls: [{ name: "write_file", arguments: { path: "note.txt", content: "the agent's work\n" } }] },
    { text: "Wrote note.txt." },
  );
  const worker = new KilnWorker({
    server: `http://127.0.0.1:${port}`,
    token: WORKER_TOKEN,
    concurrency: 1,
    driver,
    workDir,
    log: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger,
  });
  await worker.start();
  try {
    const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Write note.txt",
    });
    expect(started.statusCode).toBe(201);
    const job = await untilDone(started.json().id);
    const events = (await owner.client.get(`/api/orgs/${org}/jobs/${job.id}/events`)).json() as Array<{
      event: { type: string; event?: { type: string; toolName?: string; output?: string } };
    }>;
    const bash = events.find(
      (e) => e.event.event?.type === "tool-call-end" && e.event.event.toolName === "bash",
    );
    return {
      job,
      plantOutput: bash?.event.event?.output ?? "",
      dir: kiln.storage.projectDir(orgId, project.id),
    };
  } finally {
    await worker.stop();
  }
}

describe("a job's hostile git configuration", () => {
  it.each(ATTACKS)(
    "runs nothing on the worker's host: $name",
    async (attack) => {
      markers = await mkdtemp(path.join(markerRoot, "case-"));
      await chmod(markers, 0o777);
      const { job, plantOutput, dir } = await hostileJob(kiln.driver, attack.plant());
      // The job's own account goes into the message: a sandbox that failed to start reads differently from
      // an attack that was refused before it was planted.
      expect(
        plantOutput,
        `the payload was planted (job: ${JSON.stringify(job.failure ?? job.state)})`,
      ).toContain("PLANTED");
      expect(await readdir(markers), "a payload ran on the host").toEqual([]);
      if (attack.expect === "pushed") {
        expect(job.failure, JSON.stringify(job.failure)).toBeNull();
        expect(job.state).toBe("completed");
        const branch = job.result!.branch!;
        const tip = (await git(["-c", `safe.directory=${dir}`, "-C", dir, "rev-parse", branch])).trim();
        expect(tip).toBe(job.result!.commit);
        // The file as the agent wrote it: no filter touched it on the way.
        const note = await git(["-c", `safe.directory=${dir}`, "-C", dir, "show", `${branch}:note.txt`]);
        expect(note).toBe("the agent's work\n");
        const tree = await git(["-c", `safe.directory=${dir}`, "-C", dir, "ls-tree", "--name-only", branch]);
        expect(tree.split("\n")).not.toContain(".kiln");
      } else {
        expect(job.state).toBe("failed");
        expect(job.failure).toMatchObject({
          code: "agent_failed",
          message: expect.stringContaining("no git repository"),
        });
      }
    },
    120_000,
  );

  it("the checkout is the project uid's own: nothing in the workspace belongs to anyone else", async () => {
    // Inside the sandbox a file of the host's root shows as the overflow uid, not as the sandbox's own.
    const { job, plantOutput } = await hostileJob(
      kiln.driver,
      'stranger=$(find . ! -user "$(id -u)" -print -quit) && echo "stranger=[$stranger]" && test -z "$stranger"',
    );
    expect(plantOutput).toContain("stranger=[]");
    expect(plantOutput).toContain("PLANTED");
    expect(job.state, JSON.stringify(job.failure)).toBe("completed");
  }, 120_000);

  it("a committed KILN.md linking to a host file does not bring that file into the model's prompt", async () => {
    const secret = path.join(markerRoot, "host-secret");
    const words = `host-secret-${randomBytes(8).toString("hex")}`;
    await writeFile(secret, `${words}\n`, { mode: 0o600 });
    const { job } = await hostileJob(kiln.driver, "true", async (project) => {
      const url = remoteUrl(`http://127.0.0.1:${port}`, org, project.slug, await apiToken(owner));
      const clone = await tempDir("kiln-md");
      try {
        await git(["clone", "-q", url, clone]);
        await rm(path.join(clone, "KILN.md"), { force: true });
        await symlink(secret, path.join(clone, "KILN.md"));
        await git(["add", "-A"], { cwd: clone });
        await git(["commit", "-q", "-m", "guide"], { cwd: clone });
        await git(["push", "-q", "origin", "HEAD:main"], { cwd: clone });
      } finally {
        await rm(clone, { recursive: true, force: true });
      }
    });
    expect(job.state, JSON.stringify(job.failure)).toBe("completed");
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(JSON.stringify(fake.requests.map((r) => r.body))).not.toContain(words);
  }, 120_000);

  it("without a sandbox (KILN_ALLOW_UNSANDBOXED) the same scripts run on the host and the work is pushed", async () => {
    const { job, dir } = await hostileJob(new UnsafeHostDriver(), "true");
    expect(job.failure).toBeNull();
    expect(job.state).toBe("completed");
    const note = await git([
      "-c",
      `safe.directory=${dir}`,
      "-C",
      dir,
      "show",
      `${job.result!.branch}:note.txt`,
    ]);
    expect(note).toBe("the agent's work\n");
  }, 120_000);
});
