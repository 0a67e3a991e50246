import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";

interface Received {
  from: string;
  to: string[];
  data: string;
}

let smtp: SMTPServer;
let port: number;
const received: Received[] = [];

beforeAll(async () => {
  // A real SMTP server on loopback: the mail leaves Kiln over the wire exactly as in production.
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      let data = "";
      stream.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  port = (smtp.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

async function kilnWithSmtp(url: string): Promise<TestKiln> {
  return startTestKiln({ env: { SMTP_URL: url, SMTP_FROM: "Kiln <noreply@kiln.test>" } });
}

describe("invitation email over SMTP", () => {
  it("delivers the invitation link to the invitee", async () => {
    const kiln = await kilnWithSmtp(`smtp://127.0.0.1:${port}`);
    try {
      const { client } = await kiln.signup();
      const slug = uniqueSlug();
      await client.post("/api/orgs", { name: "Mail Team", slug });
      const invitee = uniqueEmail("invitee");
      const res = await client.post(`/api/orgs/${slug}/invitations`, { email: invitee, role: "developer" });
      expect(res.statusCode).toBe(201);
      expect(res.json().emailSent).toBe(true);
      const mail = received.find((m) => m.to.includes(invitee));
      expect(mail).toBeDefined();
      expect(mail!.from).toBe("noreply@kiln.test");
      expect(mail!.data).toContain("Mail Team");
      // Quoted-printable may wrap long lines; unfold before looking for the link.
      const body = mail!.data.replace(/=\r?\n/g, "");
      expect(body).toContain(res.json().url);
    } finally {
      await kiln.stop();
    }
  });

  it("still creates the invitation when the SMTP server is unreachable, and says so", async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const kiln = await kilnWithSmtp("smtp://127.0.0.1:1");
    try {
      const { client } = await kiln.signup();
      const slug = uniqueSlug();
      await client.post("/api/orgs", { name: "Offline", slug });
      const res = await client.post(`/api/orgs/${slug}/invitations`, {
        email: uniqueEmail(),
        role: "viewer",
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().emailSent).toBe(false);
      expect(res.json().url).toMatch(/\/invite\/inv_/);
      const pending = (await client.get(`/api/orgs/${slug}/invitations`)).json();
      expect(pending).toHaveLength(1);
    } finally {
      await kiln.stop();
    }
  });
});
