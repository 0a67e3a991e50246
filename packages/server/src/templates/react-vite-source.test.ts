import { describe, expect, it } from "vitest";
import { annotateJsx, SOURCE_ATTRIBUTE } from "../../../../templates/react-vite/kiln/source-plugin.ts";

/** The react-vite template's dev-only Vite plugin: host JSX elements carry their file and line. */
describe("react-vite source annotation", () => {
  const app = [
    'import { Card } from "./Card.tsx";', // 1
    'const greeting = "héllo 😀 — ünïcode";', // 2
    "export default function App() {", // 3
    "  return (", // 4
    '    <main className="p-4">', // 5
    "      <Card title={greeting}>", // 6
    '        <button type="button" onClick={() => alert(1)}>Count</button>', // 7
    "      </Card>", // 8
    "      <motion.div />", // 9
    "      <>", // 10
    '        <img alt="" src="/favicon.svg" />', // 11
    "      </>", // 12
    "    </main>", // 13
    "  );", // 14
    "}", // 15
  ].join("\n");

  it("marks host elements with file:line:column and leaves components alone", () => {
    const out = annotateJsx(app, "src/App.tsx") ?? "";
    expect(out).toContain(`<main ${SOURCE_ATTRIBUTE}="src/App.tsx:5:5" className="p-4">`);
    // Columns count UTF-16 code units like editors do; lines after non-ASCII text stay right.
    expect(out).toContain(`<button ${SOURCE_ATTRIBUTE}="src/App.tsx:7:9" type="button"`);
    expect(out).toContain(`<img ${SOURCE_ATTRIBUTE}="src/App.tsx:11:9" alt=""`);
    expect(out).toContain("<Card title={greeting}>");
    expect(out).toContain("<motion.div />");
    expect(out.match(new RegExp(SOURCE_ATTRIBUTE, "g"))).toHaveLength(3);
    // Nothing else moved: removing the attributes gives the input back.
    expect(out.replace(/ data-kiln-source="[^"]*"/g, "")).toBe(app);
  });

  it("does not annotate twice, and skips code it cannot parse or without JSX", () => {
    const once = annotateJsx(app, "src/App.tsx") ?? "";
    expect(annotateJsx(once, "src/App.tsx")).toBeUndefined();
    expect(annotateJsx("export const x = <div>", "src/Broken.tsx")).toBeUndefined();
    expect(annotateJsx("export const x = 1;", "src/plain.tsx")).toBeUndefined();
  });

  it("escapes a file name that would break out of the attribute", () => {
    const out = annotateJsx("export const x = <p>hi</p>;", 'src/a"b{c}.tsx') ?? "";
    expect(out).toContain(`<p ${SOURCE_ATTRIBUTE}="src/a&#34;b&#123;c&#125;.tsx:1:18">`);
  });
});
