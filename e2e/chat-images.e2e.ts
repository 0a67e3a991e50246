/**
 * Images in chat (issue #15, ADR 0041): a person attaches an image in the composer, sees it as a thumbnail
 * before sending and in the sent message, and the model is sent it (the scripted provider records an
 * OpenAI image_url part with the image's bytes). Screenshots: e2e/screenshots/chat-image-attached.png (the
 * composer), chat-image-desktop.png and chat-image-phone.png (390 px wide).
 */
import path from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "./chromium.ts";
import { SCREENSHOTS, type Studio, shotOnFailure, signUpInBrowser, startStudio } from "./studio-setup.ts";

const ANSWER = "I see an orange square with a blue stripe.";

/** A small RGB PNG: orange with a blue band, so the thumbnail is recognisable in the screenshots. */
function png(size: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "ascii");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: number[] = [];
  for (let y = 0; y < size; y++) {
    rows.push(0);
    const band = y > size * 0.4 && y < size * 0.6;
    for (let x = 0; x < size; x++) rows.push(...(band ? [40, 90, 230] : [245, 140, 30]));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const IMAGE = png(96);

let studio: Studio;
let browser: Browser;
let base: string;

beforeAll(async () => {
  studio = await startStudio({ model: { responder: () => ({ text: ANSWER, chunkSize: 8, delayMs: 10 }) } });
  ({ browser, base } = studio);
}, 120_000);

afterAll(() => studio?.close());

it("attaches an image in the composer; the message shows it and the model is sent it", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  shotOnFailure(page, "chat-image");
  const { org } = await signUpInBrowser(page, studio, "Ivy Image");
  await page.evaluate(() =>
    localStorage.setItem("kiln.workspace-ui", JSON.stringify({ state: { previewOpen: false }, version: 0 })),
  );
  await page.getByRole("button", { name: "New project" }).click();
  const create = page.getByRole("dialog", { name: "New project" });
  await create.getByLabel("Project name").fill("Pictures");
  await create.locator("[data-template=static]").click();
  await create.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(`${base}/${org}/pictures`);

  const chat = page.getByRole("region", { name: "Chat" });
  await chat.getByRole("button", { name: "Attach images" }).waitFor();
  await chat
    .getByLabel("Image files")
    .setInputFiles({ name: "square.png", mimeType: "image/png", buffer: IMAGE });
  const attached = chat.getByRole("list", { name: "Attached images" });
  await attached.getByRole("img", { name: "square.png" }).waitFor();
  // Something that is not an image is refused in the composer, with a reason.
  await chat
    .getByLabel("Image files")
    .setInputFiles({ name: "x.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg/>") });
  await chat.getByRole("alert").filter({ hasText: "Only PNG, JPEG, GIF or WebP" }).waitFor();
  expect(await attached.getByRole("img").count()).toBe(1);
  await page.screenshot({ path: path.join(SCREENSHOTS, "chat-image-attached.png") });

  const composer = page.getByLabel("Message the agent");
  await composer.fill("What is in this picture?");
  await composer.press("Enter");
  await chat.getByText(ANSWER).waitFor({ timeout: 60_000 });
  const sent = chat.locator("li[data-role=user]").first();
  const thumbnail = sent.getByRole("img", { name: "Attached" });
  await thumbnail.waitFor();
  // The thumbnail is the stored image, loaded (not a broken link).
  await expect
    .poll(() => thumbnail.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
    .toBe(96);
  expect(await attached.isVisible()).toBe(false);

  // The provider was sent the image's bytes as an OpenAI image_url part.
  const request = studio.fake!.requests.find((r) => r.path.endsWith("/chat/completions"))!;
  const body = request.body as { messages: { role: string; content: unknown }[] };
  expect(body.messages.at(-1)).toEqual({
    role: "user",
    content: [
      { type: "text", text: "What is in this picture?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${IMAGE.toString("base64")}` } },
    ],
  });
  await page.screenshot({ path: path.join(SCREENSHOTS, "chat-image-desktop.png") });

  // The same chat on a phone.
  const phone = await browser.context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  shotOnFailure(phone, "chat-image-phone");
  await phone.goto(page.url());
  const phoneChat = phone.getByRole("region", { name: "Chat" });
  await phoneChat.getByText(ANSWER).waitFor({ timeout: 30_000 });
  const phoneThumb = phoneChat.locator("li[data-role=user]").first().getByRole("img", { name: "Attached" });
  await expect
    .poll(() => phoneThumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
    .toBe(96);
  await phone.screenshot({ path: path.join(SCREENSHOTS, "chat-image-phone.png") });
  await phone.close();
  await page.close();
}, 180_000);
