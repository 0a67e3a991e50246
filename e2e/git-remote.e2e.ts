/**
 * Git with a host outside Kiln, as a user does it in the studio: "Import from git" on the dashboard makes a
 * project from a repository's URL; its settings' Git remote panel pushes, and a pull that meets a change
 * made elsewhere to the same file shows the conflict (nothing changed) and merges with conflict markers.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startGitServer, type TestGitServer } from "../packages/server/src/testing/git-server.ts";
import { type Studio, shot, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

let server: TestGitServer;
let studio: Studio;

beforeAll(async () => {
  server = await startGitServer();
  studio = await startStudio({
    env: { KILN_EGRESS_ALLOW: `${server.host}:${server.port}`, KILN_GIT_CA_FILE: server.caFile },
  });
}, 120_000);

afterAll(async () => {
  await studio?.close();
  await server?.stop();
});

it("imports a repository from its URL, pushes, and shows a pull's conflict before merging with markers", async () => {
  await server.createRepo("site", { "index.html": "<h1>Hello</h1>\n", "notes.md": "title\nfirst\n" });
  const page = await studio.browser.context.newPage();
  shotOnFailure(page, "git-remote");
  await page.setViewportSize({ width: 1280, height: 900 });
  const { org } = await signUpInBrowser(page, studio, "Gita Remote");

  await page.getByRole("button", { name: "Import from git" }).click();
  await page.getByTestId("import-git-url").fill(server.url("site"));
  await shot(page, "git-import-dialog");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.waitForURL(new RegExp(`/${org}/site$`), { timeout: 60_000 });

  const api = `/api/orgs/${org}/projects/site`;
  await page.goto(`${studio.base}/${org}/site/settings`);
  const panel = page.getByTestId("git-remote");
  await panel.waitFor();
  await expect
    .poll(() => panel.getByTestId("ahead-behind").textContent(), { timeout: 30_000 })
    .toContain("0 to push, 0 to pull");

  // The same line changed elsewhere and here (through the file API, as the editor saves).
  await server.commitOutside("site", { "notes.md": "title\nfrom outside\n" }, "outside");
  const csrf = decodeURIComponent(
    (await studio.browser.context.cookies(studio.base)).find((c) => c.name === "kiln_csrf")?.value ?? "",
  );
  const save = (content: string) =>
    page.evaluate(
      async ({ url, csrf, content }) => {
        const res = await fetch(`${url}/files/content`, {
          method: "PUT",
          headers: { "content-type": "application/json", "x-csrf-token": csrf },
          body: JSON.stringify({ path: "notes.md", content }),
        });
        return res.status;
      },
      { url: api, csrf, content },
    );
  expect(await save("title\nfrom kiln\n")).toBe(200);

  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const conflict = page.getByRole("alert").filter({ hasText: "The last pull stopped" });
  await conflict.waitFor({ timeout: 60_000 });
  expect(await conflict.textContent()).toContain("notes.md");
  await shot(page, "git-remote-conflict");

  await conflict.getByRole("button", { name: "Merge with conflict markers" }).click();
  await page.getByRole("status").filter({ hasText: "Resolve the conflict markers in notes.md" }).waitFor();
  await shot(page, "git-remote-merged");

  // Both lines kept, then pushed: the remote has them, with its own commit as an ancestor.
  expect(await save("title\nfrom kiln\nfrom outside\n")).toBe(200);
  await page.getByRole("button", { name: "Push", exact: true }).click();
  await expect
    .poll(() => server.show("site", "main", "notes.md"), { timeout: 60_000 })
    .toBe("title\nfrom kiln\nfrom outside\n");
  await expect
    .poll(() => panel.getByTestId("ahead-behind").textContent(), { timeout: 30_000 })
    .toContain("0 to push, 0 to pull");
});
