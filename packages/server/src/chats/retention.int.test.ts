import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatEvents, chatMessages } from "../db/schema-tenant.ts";
import { schemaNameFor } from "../orgs/slug.ts";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { pruneChatEvents } from "./retention.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
}, 120_000);
afterAll(() => kiln?.stop());

const DAY = 86_400_000;

/** An org with a project and a chat, and a way to add a turn with `events` events, last changed `ageMs` ago. */
async function orgWithChat() {
  const { client } = await kiln.signup();
  const slug = uniqueSlug("keep");
  const org = (await client.post("/api/orgs", { name: "Keep", slug })).json();
  const project = (await client.post(`/api/orgs/${slug}/projects`, { name: "P", template: "static" })).json();
  const chat = (await client.post(`/api/orgs/${slug}/projects/${project.slug}/chats`, { title: "c" })).json();
  const schema = schemaNameFor(org.slug);
  const addTurn = async (status: string, ageMs: number, events = 3): Promise<string> => {
    const id = randomUUID();
    const at = new Date(Date.now() - ageMs);
    await kiln.database.tenant(schema, async (tx) => {
      await tx.insert(chatMessages).values({
        id,
        chatId: chat.id,
        role: "assistant",
        parts: [{ type: "text", text: "kept in parts" }],
        status,
        createdAt: at,
        updatedAt: at,
      });
      await tx.insert(chatEvents).values(
        Array.from({ length: events }, (_, i) => ({
          messageId: id,
          seq: i + 1,
          event: { type: "text-delta", text: `chunk ${i}` },
        })),
      );
    });
    return id;
  };
  const eventsOf = (id: string) =>
    kiln.database.tenant(schema, (tx) => tx.select().from(chatEvents).where(eq(chatEvents.messageId, id)));
  const partsOf = async (id: string) =>
    (
      await kiln.database.tenant(schema, (tx) =>
        tx.select({ parts: chatMessages.parts }).from(chatMessages).where(eq(chatMessages.id, id)),
      )
    )[0]?.parts;
  return { addTurn, eventsOf, partsOf };
}

describe("chat event retention", () => {
  it("removes the replay events of turns finished long ago, in every org, and keeps their content", async () => {
    const a = await orgWithChat();
    const b = await orgWithChat();
    const oldDone = await a.addTurn("completed", 20 * DAY, 250); // more than one batch of turns' worth of rows
    const oldFailed = await b.addTurn("failed", 15 * DAY);
    const oldCancelled = await a.addTurn("cancelled", 30 * DAY);
    const recentDone = await a.addTurn("completed", 2 * DAY);
    // May still be resumed, or is being written: kept however old.
    const oldInterrupted = await a.addTurn("interrupted", 40 * DAY);
    const oldRunning = await b.addTurn("running", 40 * DAY);

    const { turns } = await pruneChatEvents(kiln.database, 14 * DAY);
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(await a.eventsOf(oldDone)).toEqual([]);
    expect(await b.eventsOf(oldFailed)).toEqual([]);
    expect(await a.eventsOf(oldCancelled)).toEqual([]);
    expect(await a.partsOf(oldDone)).toEqual([{ type: "text", text: "kept in parts" }]);
    expect(await a.eventsOf(recentDone)).toHaveLength(3);
    expect(await a.eventsOf(oldInterrupted)).toHaveLength(3);
    expect(await b.eventsOf(oldRunning)).toHaveLength(3);

    // A second pass keeps what the first kept (other test files share this database: counts are theirs too).
    await pruneChatEvents(kiln.database, 14 * DAY);
    expect(await a.eventsOf(recentDone)).toHaveLength(3);
    expect(await a.eventsOf(oldInterrupted)).toHaveLength(3);
  });

  it("removes many turns in batches", async () => {
    const c = await orgWithChat();
    const ids = [];
    for (let i = 0; i < 205; i++) ids.push(await c.addTurn("completed", 20 * DAY, 1));
    expect((await pruneChatEvents(kiln.database, 14 * DAY)).turns).toBeGreaterThanOrEqual(205);
    for (const id of ids) expect(await c.eventsOf(id)).toEqual([]);
  });
});
