import { expect, it } from "vitest";
import { descendantIds } from "./subtasks.ts";

const t = (id: string, parentId: string | null = null) => ({ id, parentId });

it("collects children and grandchildren, not siblings or the root", () => {
  const tasks = [t("a"), t("b", "a"), t("c", "b"), t("d", "a"), t("e"), t("f", "e")];
  expect([...descendantIds(tasks, "a")].sort()).toEqual(["b", "c", "d"]);
  expect([...descendantIds(tasks, "c")]).toEqual([]);
});

it("stops on a loop in the data", () => {
  const tasks = [t("a", "c"), t("b", "a"), t("c", "b")];
  expect([...descendantIds(tasks, "a")].sort()).toEqual(["b", "c"]);
});
