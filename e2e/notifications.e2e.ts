/**
 * Notifications in the studio (ADR 0032): a reviewer's bell counts up live when an agent's work on their
 * task waits for review (the job finished by a worker over the real socket), the panel lists it, a click
 * opens the board and marks it read; the account page turns a kind's mail off. Screenshots in
 * e2e/screenshots/: notifications.png, notifications-phone.png (390 px wide), notifications-preferences.png.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { orgs } from "../packages/server/src/db/schema-shared.ts";
import { uniqueSlug } from "../packages/server/src/testing/harness.ts";
import { TestWorker } from "../packages/server/src/testing/jobs.ts";
import { type Studio, shot, shotOnFailure, startStudio } from "./studio-setup.ts";

let studio: Studio;
let worker: TestWorker | undefined;

beforeAll(async () => {
  studio = await startStudio({
    env: { KILN_NOTIFY_EMAIL_DELAY_MS: "500", KILN_JOB_SWEEP_SECONDS: "0" },
    screen: { viewport: { width: 1280, height: 900 } },
  });
}, 120_000);
afterAll(async () => {
  await worker?.terminate();
  await studio?.close();
});

it("the bell counts a review waiting live; the panel opens it and marks it read; preferences on the account page", async () => {
  const { kiln, base, port } = studio;
  const owner = await kiln.signup({ name: "Alice Owner" });
  const org = uniqueSlug("notify");
  const created = await owner.client.post("/api/orgs", { name: "Review Team", slug: org });
  expect(created.statusCode).toBe(201);
  const project = (
    await owner.client.post(`/api/orgs/${org}/projects`, { name: "Shop", template: "static" })
  ).json();
  const reviewer = await kiln.signup({ name: "Rita Reviewer" });
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, {
    email: reviewer.user.email,
    role: "developer",
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await reviewer.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  const base_ = `/api/orgs/${org}/projects/${project.slug}`;
  const task = (await owner.client.post(`${base_}/tasks`, { title: "Checkout page" })).json();

  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "notifications");
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(reviewer.user.email);
  await page.getByLabel("Password").fill(reviewer.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Projects" }).waitFor();
  const bell = page.getByRole("button", { name: /^Notifications/ });
  await bell.waitFor();
  await expect.poll(() => bell.getAttribute("aria-label")).toBe("Notifications");

  // Assigned (one), then the agent's job on the task finishes with a branch: a review waits (two) — live.
  const assigned = await owner.client.patch(`${base_}/tasks/${task.id}`, {
    assignee: { type: "member", userId: reviewer.user.id },
  });
  expect(assigned.statusCode).toBe(200);
  await page.getByRole("button", { name: "Notifications, 1 unread" }).waitFor();
  const workerToken = (await owner.client.post(`/api/orgs/${org}/workers/tokens`, { name: "ci" })).json()
    .token;
  worker = await TestWorker.connect(`ws://127.0.0.1:${port}/api/workers/socket`, workerToken);
  await worker.register();
  const [orgRow] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, created.json().id));
  const { jobId } = await kiln.services.jobs.startJob({
    org: orgRow!,
    projectId: project.id,
    taskId: task.id,
    kind: "implement",
    requestedBy: owner.user.id,
  });
  await worker.waitFor("job", (m) => m.job.id === jobId);
  worker.send({ type: "heartbeat", jobIds: [jobId] });
  worker.send({
    type: "complete",
    jobId,
    attempt: 1,
    result: { summary: "Built the checkout", branch: `kiln/job-${jobId}`, commit: "d".repeat(40) },
  });
  await page.getByRole("button", { name: "Notifications, 2 unread" }).waitFor();

  await bell.click();
  const panel = page.getByRole("region", { name: "Notifications" });
  const review = panel.getByRole("button", { name: /Review waiting: #1 Checkout page/ });
  await review.waitFor();
  await panel.getByRole("button", { name: /You were assigned #1 Checkout page/ }).waitFor();
  await shot(page, "notifications");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "notifications-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  await review.click();
  await page.waitForURL((url) => url.pathname === `/${org}/${project.slug}` && url.search === "?view=board");
  await expect
    .poll(async () => (await reviewer.client.get("/api/notifications?unread=true")).json().unread)
    .toBe(1);
  // And by mail (the review's own, the assignment having left before it).
  await expect
    .poll(
      () =>
        kiln.mails.sent.some(
          (m) => m.to === reviewer.user.email && m.text.includes("Review waiting: #1 Checkout page"),
        ),
      { timeout: 10_000 },
    )
    .toBe(true);

  // Preferences on the account page: mail for reviews waiting off, kept.
  await page.goto(`${base}/account`);
  const reviewMail = page.getByRole("checkbox", { name: "A review is waiting for you: Email" });
  await expect.poll(() => reviewMail.isChecked()).toBe(true);
  await reviewMail.uncheck();
  await expect
    .poll(
      async () =>
        (await reviewer.client.get("/api/notifications/preferences"))
          .json()
          .find(
            (p: { kind: string; channel: string }) => p.kind === "review_waiting" && p.channel === "email",
          )?.enabled,
    )
    .toBe(false);
  await page.reload();
  await expect.poll(() => reviewMail.isChecked()).toBe(false);
  await page.getByRole("checkbox", { name: "A review is waiting for you: In app" }).waitFor();
  await page.getByRole("heading", { name: "Notifications" }).scrollIntoViewIfNeeded();
  await shot(page, "notifications-preferences");
}, 60_000);
