import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  type ChatImage,
  type ChatImageType,
  MAX_CHAT_IMAGE_BYTES,
  MAX_IMAGES_PER_MESSAGE,
  type MessagePart,
} from "@kiln/protocol";
import { and, eq, inArray } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { chatImages } from "../db/schema-tenant.ts";
import { BadRequestError, KilnError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { looksLikeId } from "../orgs/slug.ts";
import type { ProjectService } from "../projects/service.ts";
import { findChat } from "./store.ts";

/**
 * What the bytes are, by their magic numbers alone (a client's content-type is never asked): PNG, JPEG, GIF
 * or WebP. Anything else (SVG, HTML, a polyglot that starts like neither) is undefined.
 */
export function sniffImageType(bytes: Uint8Array): ChatImageType | undefined {
  const b = bytes;
  const at = (offset: number, sig: number[]) => sig.every((v, i) => b[offset + i] === v);
  if (b.length >= 8 && at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (b.length >= 3 && at(0, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (
    b.length >= 6 &&
    (at(0, [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || at(0, [0x47, 0x49, 0x46, 0x38, 0x39, 0x61]))
  )
    return "image/gif";
  if (b.length >= 12 && at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50]))
    return "image/webp";
  return undefined;
}

function tooLarge(): KilnError {
  return new KilnError(
    "payload_too_large",
    `an image may be at most ${MAX_CHAT_IMAGE_BYTES / 1024 / 1024} MB`,
    {
      details: { limit: MAX_CHAT_IMAGE_BYTES },
    },
  );
}

/** An image as the model is sent it. */
export interface ImageBytes {
  mediaType: ChatImageType;
  data: Uint8Array;
}

/** Images attached to a chat (ADR 0041): uploaded one by one, then named by a message. */
export class ChatImages {
  readonly #database: Database;
  readonly #projects: ProjectService;

  constructor(deps: { database: Database; projects: ProjectService }) {
    this.#database = deps.database;
    this.#projects = deps.projects;
  }

  async upload(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    body: unknown,
    contentLength: string | undefined,
  ): Promise<ChatImage> {
    requirePermission(access.role, "chats.write");
    // Whose chat it is comes first: another tenant's is a 404 whatever was sent.
    const project = await this.#projects.get(access, projectRef);
    const chat = await this.#database.tenant(access.org.schemaName, (tx) => findChat(tx, project.id, chatId));
    if (!(body instanceof Readable))
      throw new KilnError("unsupported_media_type", "send the image's bytes as application/octet-stream");
    if (Number(contentLength) > MAX_CHAT_IMAGE_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_CHAT_IMAGE_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
    const data = Buffer.concat(chunks);
    const mediaType = sniffImageType(data);
    if (!mediaType) throw new KilnError("image_invalid", "an image must be a PNG, JPEG, GIF or WebP file");
    const id = randomUUID();
    await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.insert(chatImages).values({ id, chatId: chat.id, mediaType, size, data, createdBy: access.userId }),
    );
    return { id, chatId: chat.id, mediaType, size };
  }

  async get(access: OrgAccess, projectRef: string, chatId: string, imageId: string): Promise<ImageBytes> {
    requirePermission(access.role, "chats.read");
    const project = await this.#projects.get(access, projectRef);
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const chat = await findChat(tx, project.id, chatId);
      const [found] = await loadImages(tx, chat.id, [imageId]);
      if (!found) throw new NotFoundError("image_not_found", "image not found");
      return found[1];
    });
  }
}

/** The chat's images of these ids (others' and unknown ids are left out). */
export async function loadImages(
  tx: Executor,
  chatId: string,
  ids: readonly string[],
): Promise<[string, ImageBytes][]> {
  const wanted = [...new Set(ids.filter(looksLikeId).map((id) => id.toLowerCase()))];
  if (wanted.length === 0) return [];
  const rows = await tx
    .select({ id: chatImages.id, mediaType: chatImages.mediaType, data: chatImages.data })
    .from(chatImages)
    .where(and(eq(chatImages.chatId, chatId), inArray(chatImages.id, wanted)));
  return rows.map((r) => [r.id, { mediaType: r.mediaType as ChatImageType, data: r.data }]);
}

/** A new message's image parts, each id one of the chat's images (refused otherwise). */
export async function imageParts(
  tx: Executor,
  chatId: string,
  ids: readonly string[],
): Promise<MessagePart[]> {
  if (ids.length > MAX_IMAGES_PER_MESSAGE)
    throw new BadRequestError("validation_failed", `at most ${MAX_IMAGES_PER_MESSAGE} images per message`);
  const found = new Map(await loadImages(tx, chatId, ids));
  return ids.map((id) => {
    const image = found.get(id.toLowerCase());
    if (!image) throw new NotFoundError("image_not_found", "image not found in this chat");
    return { type: "image" as const, imageId: id.toLowerCase(), mediaType: image.mediaType };
  });
}

/** The ids of the images a chat's history shows (none: no statement is needed to load them). */
export function imageIdsOf(messages: readonly { parts: unknown }[]): string[] {
  const ids: string[] = [];
  for (const m of messages)
    for (const p of m.parts as MessagePart[]) if (p.type === "image") ids.push(p.imageId);
  return ids;
}
