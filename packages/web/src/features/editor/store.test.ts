import { beforeEach, describe, expect, it } from "vitest";
import { isDirty, useEditor } from "./store.ts";

const s = () => useEditor.getState();

beforeEach(() => {
  s().reset(`test-${Math.random()}`);
});

describe("editor tabs and buffers", () => {
  it("opens each file once and activates it", () => {
    s().open("a.ts");
    s().open("b.ts");
    s().open("a.ts");
    expect(s().tabs).toEqual(["a.ts", "b.ts"]);
    expect(s().active).toBe("a.ts");
  });

  it("is dirty only when the text differs from what was saved", () => {
    s().open("a.ts");
    s().patch("a.ts", { status: "ready", saved: "x", value: "x" });
    expect(isDirty(s().files["a.ts"])).toBe(false);
    s().setValue("a.ts", "xy");
    expect(isDirty(s().files["a.ts"])).toBe(true);
    s().setValue("a.ts", "x");
    expect(isDirty(s().files["a.ts"])).toBe(false);
  });

  it("activates the neighbour when the active tab closes", () => {
    for (const p of ["a", "b", "c"]) s().open(p);
    s().activate("b");
    s().close("b");
    expect(s().tabs).toEqual(["a", "c"]);
    expect(s().active).toBe("c");
  });

  it("follows a renamed folder and closes a deleted one", () => {
    s().open("src/a.ts");
    s().open("src/lib/b.ts");
    s().open("srcx/c.ts");
    s().moved("src", "app");
    expect(s().tabs).toEqual(["app/a.ts", "app/lib/b.ts", "srcx/c.ts"]);
    expect(Object.keys(s().files).sort()).toEqual(["app/a.ts", "app/lib/b.ts", "srcx/c.ts"]);
    s().removed("app/lib");
    expect(s().tabs).toEqual(["app/a.ts", "srcx/c.ts"]);
  });

  it("starts empty for another project", () => {
    s().open("a.ts");
    s().reset("other/project");
    expect(s().tabs).toEqual([]);
  });
});
