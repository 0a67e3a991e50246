import { describe, expect, it } from "vitest";
import { creatingLabel, preparingPercent } from "./preparing.ts";

const t = (name: string, preparing?: number) => ({
  name,
  title: name,
  description: name,
  ...(preparing === undefined ? {} : { preparing }),
});

describe("preparing templates", () => {
  it("shows the chosen template's install, or any under way when the server picks", () => {
    const list = [t("static"), t("react-vite", 42)];
    expect(preparingPercent(list, "react-vite")).toBe(42);
    expect(preparingPercent(list, "static")).toBeUndefined();
    expect(preparingPercent(list, undefined)).toBe(42);
    expect(preparingPercent([t("static")], undefined)).toBeUndefined();
    expect(preparingPercent(undefined, "react-vite")).toBeUndefined();
  });

  it("labels the button with the percentage only while an install is under way", () => {
    expect(creatingLabel(0, "Creating…")).toBe("Preparing templates… 0%");
    expect(creatingLabel(87, "Creating…")).toBe("Preparing templates… 87%");
    expect(creatingLabel(undefined, "Creating…")).toBe("Creating…");
  });
});
