import { randomUUID } from "node:crypto";
import type { RunEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatMessages } from "../db/schema-tenant.ts";
import { schemaNameFor } from "../orgs/slug.ts";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { appendEvents, EVENTS_PAGE, eventsAfter, insertEvents, lastEventSeq } from "./store.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
}, 120_000);
afterAll(() => kiln?.stop());

async function orgWithChat() {
  const { client } = await kiln.signup();
  const slug = uniqueSlug("store");
  const org = (await client.post("/api/orgs", { name: "Store", slug })).json();
  const project = (await client.post(`/api/orgs/${slug}/projects`, { name: "P", template: "static" })).json();
  const chat = (await client.post(`/api/orgs/${slug}/projects/${project.slug}/chats`, { title: "c" })).json();
  const schema = schemaNameFor(org.slug);
  const newMessage = async () => {
    const id = randomUUID();
    await kiln.database.tenant(schema, (tx) =>
      tx
        .insert(chatMessages)
        .values({ id, chatId: chat.id, role: "assistant", parts: [], status: "running" }),
    );
    return id;
  };
  return { schema, newMessage };
}

const delta = (messageId: string, seq: number, text: string): RunEvent => ({
  seq,
  event: { type: "text-delta", messageId, delta: text },
});

describe("stored chat events", () => {
  it("stores a batch of more rows than PostgreSQL takes bound parameters, in order, exactly once", async () => {
    const { schema, newMessage } = await orgWithChat();
    const [a, b] = [await newMessage(), await newMessage()];
    // 3 values a row used to be 3 parameters: 25,000 rows was 75,000, past the protocol's 65,535.
    const rows = Array.from({ length: 25_000 }, (_, i) => {
      const messageId = i % 2 === 0 ? a : b;
      return {
        messageId,
        seq: Math.floor(i / 2) + 1,
        event: delta(messageId, Math.floor(i / 2) + 1, `t${i}`).event,
      };
    });
    await kiln.database.tenant(schema, (tx) => insertEvents(tx, rows));
    // Stored again (a retried batch): nothing doubles, nothing is overwritten.
    await kiln.database.tenant(schema, (tx) =>
      insertEvents(tx, [
        { messageId: a, seq: 1, event: { type: "text-delta", messageId: a, delta: "changed" } },
      ]),
    );
    const last = await kiln.database.tenant(schema, (tx) => lastEventSeq(tx, a));
    expect(last).toBe(12_500);
    const firstPage = await kiln.database.tenant(schema, (tx) => eventsAfter(tx, a, 0));
    expect(firstPage).toHaveLength(Math.min(EVENTS_PAGE, 12_500));
    expect(firstPage[0]).toEqual(delta(a, 1, "t0"));
    expect(firstPage.map((e) => e.seq)).toEqual(firstPage.map((_, i) => i + 1));
  });

  it("keeps text that JSON must escape exactly as it was", async () => {
    const { schema, newMessage } = await orgWithChat();
    const id = await newMessage();
    const awkward = [
      'quote " backslash \\ newline\n tab\t',
      "emoji 🔥 and ünïcödé",
      "</script><!--",
      '{"not": json}',
    ];
    await kiln.database.tenant(schema, (tx) =>
      appendEvents(
        tx,
        id,
        awkward.map((text, i) => delta(id, i + 1, text)),
      ),
    );
    const stored = await kiln.database.tenant(schema, (tx) => eventsAfter(tx, id, 0));
    expect(stored).toEqual(awkward.map((text, i) => delta(id, i + 1, text)));
  });
});
