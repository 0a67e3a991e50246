/**
 * Image content parts, checked as the real APIs check them: OpenAI Chat Completions takes
 * `{ type: "image_url", image_url: { url } }` (an http(s) URL or a base64 `data:image/…` URL), Anthropic
 * Messages `{ type: "image", source: { type: "base64", media_type, data } | { type: "url", url } }`.
 * A malformed one is answered like the providers do: a 400 invalid_request_error naming what is wrong.
 */

const MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isHttpUrl(url: unknown): boolean {
  if (typeof url !== "string") return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:";
  } catch {
    return false;
  }
}

function base64Ok(data: unknown): boolean {
  return typeof data === "string" && data.length > 0 && data.length % 4 === 0 && BASE64.test(data);
}

function openAiImage(part: Record<string, unknown>, where: string): string | undefined {
  const image = part.image_url as Record<string, unknown> | undefined;
  const url = image && typeof image === "object" ? image.url : undefined;
  if (typeof url !== "string") return `${where}.image_url.url: a string is required`;
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) {
    if (!MEDIA_TYPES.includes(data[1]!))
      return `${where}.image_url.url: unsupported image type ${data[1]}; use png, jpeg, gif or webp`;
    if (!base64Ok(data[2])) return `${where}.image_url.url: the data URL is not valid base64`;
    return undefined;
  }
  if (!isHttpUrl(url)) return `${where}.image_url.url: expected an http(s) URL or a base64 data URL`;
  return undefined;
}

function anthropicImage(part: Record<string, unknown>, where: string): string | undefined {
  const source = part.source as Record<string, unknown> | undefined;
  if (!source || typeof source !== "object") return `${where}.source: Field required`;
  if (source.type === "base64") {
    if (!MEDIA_TYPES.includes(source.media_type as string))
      return `${where}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
    if (!base64Ok(source.data)) return `${where}.source.data: The image data is not valid base64`;
    return undefined;
  }
  if (source.type === "url") return isHttpUrl(source.url) ? undefined : `${where}.source.url: invalid URL`;
  return `${where}.source.type: Input should be 'base64' or 'url'`;
}

/** What is wrong with the first malformed image part of a request's messages; undefined: none is. */
export function malformedImage(format: "chat" | "messages", messages: unknown[]): string | undefined {
  for (const [m, message] of messages.entries()) {
    const content = (message as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const [i, part] of content.entries()) {
      if (!part || typeof part !== "object") continue;
      const p = part as Record<string, unknown>;
      const where = `messages.${m}.content.${i}`;
      const problem =
        format === "chat"
          ? p.type === "image_url"
            ? openAiImage(p, where)
            : undefined
          : p.type === "image"
            ? anthropicImage(p, where)
            : undefined;
      if (problem) return problem;
    }
  }
  return undefined;
}
