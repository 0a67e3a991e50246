import { z } from "zod";

/**
 * The element picker: in "Select element" mode the script Kiln injects into preview pages highlights what
 * the pointer is over and, on a click, posts the element to the studio. The page is the project's (hostile
 * for all the studio knows), so what crosses is small, text only and checked here on arrival.
 */

/** Tag of the `kiln` field every picker message carries, so other postMessage traffic is ignored. */
export const ELEMENT_PICKER_CHANNEL = "kiln-element-picker";

export const ELEMENT_SELECTION_LIMITS = {
  tag: 40,
  selector: 400,
  text: 120,
  source: 300,
  /** Largest coordinate or size of the box, in CSS pixels. */
  box: 1_000_000,
} as const;

const Coordinate = z.number().finite().min(-ELEMENT_SELECTION_LIMITS.box).max(ELEMENT_SELECTION_LIMITS.box);
const Size = z.number().finite().min(0).max(ELEMENT_SELECTION_LIMITS.box);

/** `src/App.tsx:12:5`: a file relative to the project (no `..`, not absolute), a line and a column. */
const SOURCE_PATTERN = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|:))[\w@+./-]{1,250}:[1-9]\d{0,6}:[1-9]\d{0,5}$/;

export const ElementSelection = z
  .strictObject({
    tag: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/)
      .describe("Lower-case tag name: `button`"),
    selector: z
      .string()
      .min(1)
      .max(ELEMENT_SELECTION_LIMITS.selector)
      .describe("A CSS selector for the element within its page"),
    text: z
      .string()
      .max(ELEMENT_SELECTION_LIMITS.text)
      .describe("Its visible text, whitespace collapsed, cut short"),
    box: z
      .strictObject({ x: Coordinate, y: Coordinate, width: Size, height: Size })
      .describe("Where it is drawn, in CSS pixels of the page's viewport"),
    source: z
      .string()
      .max(ELEMENT_SELECTION_LIMITS.source)
      .regex(SOURCE_PATTERN)
      .optional()
      .describe("Where it is written (`src/App.tsx:12:5`), from the template's dev-only source annotation"),
    page: z.string().max(500).optional().describe("Path of the preview page"),
  })
  .meta({ id: "ElementSelection" });
export type ElementSelection = z.infer<typeof ElementSelection>;

/** What the preview page posts to the studio. */
export const PickerPageMessage = z.discriminatedUnion("type", [
  z.strictObject({
    kiln: z.literal(ELEMENT_PICKER_CHANNEL),
    type: z.literal("selected"),
    selection: ElementSelection,
  }),
  z.strictObject({ kiln: z.literal(ELEMENT_PICKER_CHANNEL), type: z.literal("cancelled") }),
]);
export type PickerPageMessage = z.infer<typeof PickerPageMessage>;

/** What the studio posts to the preview page. */
export const PickerStudioMessage = z.strictObject({
  kiln: z.literal(ELEMENT_PICKER_CHANNEL),
  type: z.enum(["start", "stop"]),
});
export type PickerStudioMessage = z.infer<typeof PickerStudioMessage>;

/** A page message when `data` is one, else undefined (never throws). */
export function readPickerMessage(data: unknown): PickerPageMessage | undefined {
  const parsed = PickerPageMessage.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

/** `src/App.tsx:14` (file and line) of a selection's source, if it has one. */
export function sourceLine(selection: ElementSelection): string | undefined {
  return selection.source?.replace(/:\d+$/, "");
}

/** Text of a selection made safe to quote inside the context block: one line, no angle brackets. */
function quoted(text: string): string {
  return JSON.stringify(text.replace(/\s+/g, " ").replace(/[<>]/g, ""));
}

/**
 * The block appended to the user's message so the model sees which element they mean and where it is
 * written. Everything from the page in it is validated and quoted; the tags delimit it for the model.
 */
export function elementContextBlock(selection: ElementSelection): string {
  const { x, y, width, height } = selection.box;
  const lines = [
    "<selected-element>",
    "The user selected this element in the preview; their message is about it.",
    `element: <${selection.tag}>${selection.text ? ` with text ${quoted(selection.text)}` : ""}`,
    selection.source
      ? `source: ${selection.source} (file:line:column; open this file at this line first)`
      : "source: unknown (not annotated; find it by its text and selector)",
    `selector: ${quoted(selection.selector)}`,
    `box: ${Math.round(width)}×${Math.round(height)} at (${Math.round(x)}, ${Math.round(y)})`,
    ...(selection.page ? [`page: ${quoted(selection.page)}`] : []),
    "</selected-element>",
  ];
  return lines.join("\n");
}

/**
 * A user message split into what the user wrote and, when it ends with a context block, a one-line
 * summary of the element (`<button> "Count is 0" · src/App.tsx:14:7`) for showing in the transcript.
 */
export function splitElementContext(message: string): { text: string; element?: string } {
  const m = /\n\n<selected-element>\n([\s\S]*)\n<\/selected-element>$/.exec(message);
  if (!m) return { text: message };
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(m[1] ?? "")?.[1];
  const element = field("element")?.replace(" with text ", " ");
  const source = field("source");
  const where = source && !source.startsWith("unknown") ? ` · ${source.replace(/ \(.*$/, "")}` : "";
  return { text: message.slice(0, m.index), element: `${element ?? "element"}${where}` };
}
