import { ELEMENT_PICKER_CHANNEL, readPickerMessage } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { elementPickerTag } from "./picker-script.ts";

const STUDIO = "https://kiln.example";
type Listener = (event: Record<string, unknown>) => void;

/** Runs the injected script against a small stand-in of a framed page; returns what it posts and hooks. */
function framedPage() {
  const source = /<script data-kiln="picker">([\s\S]*)<\/script>/.exec(elementPickerTag(STUDIO))![1]!;
  const posted: Array<{ message: unknown; target: string }> = [];
  const parent = { postMessage: (message: unknown, target: string) => posted.push({ message, target }) };
  const windowListeners: Record<string, Listener> = {};
  const documentListeners = new Map<string, Listener>();
  const win = {
    parent,
    addEventListener: (type: string, fn: Listener) => {
      windowListeners[type] = fn;
    },
  };
  const doc = {
    documentElement: { style: {} as Record<string, string>, appendChild: () => {} },
    createElement: () => ({ style: {}, setAttribute: () => {} }),
    addEventListener: (type: string, fn: Listener) => documentListeners.set(type, fn),
    removeEventListener: (type: string) => documentListeners.delete(type),
  };
  new Function("window", "document", "location", source)(win, doc, { pathname: "/" });
  const fromStudio = (data: unknown, origin = STUDIO, from: unknown = parent) =>
    windowListeners.message?.({ data, origin, source: from });
  return { posted, documentListeners, fromStudio };
}

function element(text: string, sourceAttribute: string | null) {
  const el: Record<string, unknown> = {
    nodeType: 1,
    tagName: "BUTTON",
    innerText: text,
    parentElement: null,
    getBoundingClientRect: () => ({ left: 10.4, top: 20, width: 96, height: 36 }),
    getAttribute: () => sourceAttribute,
  };
  el.closest = () => (sourceAttribute === null ? null : el);
  return el;
}

const noop = () => {};
const click = (target: unknown) => ({ target, preventDefault: noop, stopPropagation: noop });

describe("the element picker's page script", () => {
  it("parses and stays small", () => {
    const source = /<script data-kiln="picker">([\s\S]*)<\/script>/.exec(elementPickerTag(STUDIO))![1]!;
    expect(() => new Function(source)).not.toThrow();
    expect(elementPickerTag(STUDIO).length).toBeLessThan(6_000);
  });

  it("starts only for the studio's origin and its own parent frame", () => {
    const page = framedPage();
    const start = { kiln: ELEMENT_PICKER_CHANNEL, type: "start" };
    page.fromStudio(start, "https://evil.example");
    page.fromStudio(start, STUDIO, { postMessage: noop });
    page.fromStudio({ type: "start" });
    page.fromStudio("start");
    expect(page.documentListeners.has("click")).toBe(false);
    page.fromStudio(start);
    expect(page.documentListeners.has("click")).toBe(true);
    page.fromStudio({ kiln: ELEMENT_PICKER_CHANNEL, type: "stop" });
    expect(page.documentListeners.size).toBe(0);
  });

  it("posts one bounded selection to the studio's origin only, then stops", () => {
    const page = framedPage();
    page.fromStudio({ kiln: ELEMENT_PICKER_CHANNEL, type: "start" });
    page.documentListeners.get("click")!(
      click(element(`  Count:\n 0 ${"x".repeat(500)}`, "src/Counter.tsx:7:5")),
    );
    expect(page.posted).toHaveLength(1);
    expect(page.posted[0]!.target).toBe(STUDIO);
    const message = readPickerMessage(page.posted[0]!.message);
    expect(message?.type === "selected" && message.selection).toMatchObject({
      tag: "button",
      selector: "button",
      box: { x: 10, y: 20, width: 96, height: 36 },
      source: "src/Counter.tsx:7:5",
    });
    expect(message?.type === "selected" && message.selection.text).toMatch(/^Count: 0 x{111}$/);
    expect(page.documentListeners.size).toBe(0);
  });

  it("leaves an oversized source attribute out rather than passing it on", () => {
    const page = framedPage();
    page.fromStudio({ kiln: ELEMENT_PICKER_CHANNEL, type: "start" });
    page.documentListeners.get("click")!(click(element("Hi", `src/${"a".repeat(400)}.tsx:1:1`)));
    const message = readPickerMessage(page.posted[0]!.message);
    expect(message?.type === "selected" && message.selection.source).toBeUndefined();
  });
});
