import { type FakeProvider, lastUserText, readConversation, startFakeProvider } from "@kiln/fake-provider";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let fake: FakeProvider;
let kiln: TestKiln;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.setResponder((request) => {
    const asked = lastUserText(readConversation(request));
    return asked.includes("slowly")
      ? // ~5 s: long enough to outlast the second start (a project made) on a loaded machine.
        { text: "Thinking it over… ".repeat(20), chunkSize: 18, delayMs: 250 }
      : { text: `On it: ${asked}` };
  });
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      // One turn at a time per user: a second start while one runs is refused after its project was made.
      KILN_MAX_CHAT_RUNS_PER_USER: "1",
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Starts", slug: org });
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

const start = (body: Record<string, unknown>) => owner.client.post(`/api/orgs/${org}/start`, body);
const projectSlugs = async () =>
  ((await owner.client.get(`/api/orgs/${org}/projects`)).json() as Array<{ slug: string }>).map(
    (p) => p.slug,
  );

async function answered(project: string, chatId: string): Promise<{ role: string; status: string }[]> {
  // By the clock, not by a count of polls: the slow reply alone takes ~5 s.
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const chat = (await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chatId}`)).json();
    if (chat.runningMessageId === null) return chat.messages;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the first turn did not end");
}

it("makes a named project from the template the prompt asks for and sends the prompt as its first message", async () => {
  const prompt = "a static html page with my opening hours";
  const res = await start({ prompt });
  expect(res.statusCode).toBe(201);
  const started = res.json();
  expect(started.project).toMatchObject({
    name: "Static html page",
    slug: "static-html-page",
    template: "static",
    description: prompt,
  });
  expect(started.chat).toMatchObject({ title: prompt, runningMessageId: started.assistantMessage.id });
  expect(started.userMessage.parts).toEqual([{ type: "text", text: prompt }]);
  const messages = await answered(started.project.slug, started.chat.id);
  expect(messages.map((m) => [m.role, m.status])).toEqual([
    ["user", "complete"],
    ["assistant", "completed"],
  ]);
  expect(lastUserText(readConversation(fake.requests.at(-1)!))).toBe(prompt);

  // The same prompt again: a project of its own, under a slug of its own.
  const again = await start({ prompt, template: "node-api" });
  expect(again.statusCode).toBe(201);
  expect(again.json().project.template).toBe("node-api");
  expect(again.json().project.slug).not.toBe("static-html-page");
  expect(again.json().project.slug).toMatch(/^static-html-page-/);
  await answered(again.json().project.slug, again.json().chat.id);
});

it("makes nothing when the turn could not start: an unknown model or template is refused first", async () => {
  const before = await projectSlugs();
  const noProvider = await start({ prompt: "a static page", model: "nowhere/model-x" });
  expect([noProvider.statusCode, noProvider.json().error.code]).toEqual([404, "provider_not_found"]);
  const noTemplate = await start({ prompt: "a static page", template: "no-such-template" });
  expect([noTemplate.statusCode, noTemplate.json().error.code]).toEqual([400, "template_not_found"]);
  const empty = await start({ prompt: "   " });
  expect([empty.statusCode, empty.json().error.code]).toEqual([400, "validation_failed"]);
  expect(await projectSlugs()).toEqual(before);
});

it("takes the project back when the first turn is refused after it was made (a turn limit)", async () => {
  const first = await start({ prompt: "a static page, built slowly" });
  expect(first.statusCode).toBe(201);
  const before = await projectSlugs();
  const refused = await start({ prompt: "a static page for my shop" });
  expect([refused.statusCode, refused.json().error.code]).toEqual([429, "limit_exceeded"]);
  expect(await projectSlugs()).toEqual(before);
  await answered(first.json().project.slug, first.json().chat.id);
});
