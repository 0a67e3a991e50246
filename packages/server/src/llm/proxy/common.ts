import { randomBytes } from "node:crypto";
import type { LanguageModelV4FilePart, LanguageModelV4FinishReason } from "@ai-sdk/provider";
import { BadRequestError, KilnError } from "../../errors/errors.ts";

export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("hex")}`;
}

/** Tool arguments as the model wrote them; a string that is not JSON is passed on as it is. */
export function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An input object for formats that require one (Anthropic's tool_use.input). */
export function argumentsObject(text: string): Record<string, unknown> {
  const parsed = parseArguments(text);
  return parsed && typeof parsed === "object" && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

export type UnifiedFinish = LanguageModelV4FinishReason["unified"];

/** An image given as a data: URL or an http(s) URL, as the AI SDK's file part. */
export function imagePart(url: string, mediaType?: string): LanguageModelV4FilePart {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: "file", mediaType: data[1]!, data: { type: "data", data: data[2]! } };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadRequestError("validation_failed", "an image URL must be an http(s) or base64 data: URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new BadRequestError("validation_failed", "an image URL must be an http(s) or base64 data: URL");
  }
  return { type: "file", mediaType: mediaType ?? "image", data: { type: "url", url: parsed } };
}

/** A request with an image for a model that reads text only is refused before any call (ADR 0041). */
export function refuseImagesIfTextOnly(
  model: { images: boolean; modelRef: string },
  options: { prompt: readonly { role: string; content: unknown }[] },
): void {
  if (model.images) return;
  const hasImage = options.prompt.some(
    (m) => Array.isArray(m.content) && m.content.some((p: { type?: string }) => p.type === "file"),
  );
  if (hasImage) {
    throw new KilnError(
      "model_no_images",
      `${model.modelRef} reads text only; pick a model that accepts images or send the request without them`,
      { details: { model: model.modelRef } },
    );
  }
}
