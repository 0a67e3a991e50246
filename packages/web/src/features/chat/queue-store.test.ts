import { beforeEach, describe, expect, it } from "vitest";
import { useChatQueue } from "./queue-store.ts";

beforeEach(() => useChatQueue.setState({ queued: {} }));

describe("useChatQueue", () => {
  it("hands out a chat's messages oldest first and skips cancelled ones", () => {
    const q = useChatQueue.getState();
    q.add("c1", "first");
    q.add("c1", "second");
    q.add("c1", "third");
    q.add("c2", "other chat");
    const second = useChatQueue.getState().queued.c1![1]!;
    useChatQueue.getState().remove("c1", second.id);
    expect(useChatQueue.getState().take("c1")?.text).toBe("first");
    expect(useChatQueue.getState().take("c1")?.text).toBe("third");
    expect(useChatQueue.getState().take("c1")).toBeUndefined();
    expect(useChatQueue.getState().queued.c2?.map((m) => m.text)).toEqual(["other chat"]);
  });
});
