import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "../db/schema-shared.ts";
import {
  parseVerificationMail,
  type SignedUp,
  startTestKiln,
  type TestKiln,
  uniqueEmail,
  uniqueSlug,
} from "../testing/harness.ts";

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

/** Quoted-printable may wrap long lines; unfold before reading a mail's text. */
const unfold = (data: string) => data.replace(/=\r?\n/g, "");

/** Signs up and verifies with the code that arrived over SMTP, as a person reading their inbox would. */
async function signupVerifiedOverSmtp(kiln: TestKiln): Promise<SignedUp> {
  const user = await kiln.signup({ verify: false });
  const mail = received.findLast((m) => m.to.includes(user.user.email));
  expect(mail, "the verification mail arrived over SMTP").toBeDefined();
  const { code } = parseVerificationMail(unfold(mail!.data));
  const verified = await user.client.post("/api/auth/verify-email/code", { code });
  expect(verified.statusCode, verified.body).toBe(200);
  return user;
}

describe("verification email over SMTP", () => {
  it("delivers the code and link; the code proves the address and the invitation to it can be accepted", async () => {
    const kiln = await kilnWithSmtp(`smtp://127.0.0.1:${port}`);
    try {
      const owner = await signupVerifiedOverSmtp(kiln);
      const slug = uniqueSlug();
      await owner.client.post("/api/orgs", { name: "Verified Team", slug });
      const invitee = uniqueEmail("smtp-invitee");
      const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, {
        email: invitee,
        role: "viewer",
      });
      expect(invited.statusCode).toBe(201);
      const token = new URL(invited.json().url).pathname.split("/").at(-1)!;

      const member = await kiln.signup({ email: invitee, verify: false });
      const refused = await member.client.post(`/api/invitations/${token}/accept`);
      expect(refused.json().error.code).toBe("email_not_verified");
      const mail = received.findLast((m) => m.to.includes(invitee) && m.data.includes("verification code"));
      expect(mail!.from).toBe("noreply@kiln.test");
      const { code, token: link } = parseVerificationMail(unfold(mail!.data));
      expect(unfold(mail!.data)).toContain(`http://localhost:4000/verify-email/${link}`);
      expect((await member.client.post("/api/auth/verify-email/code", { code })).statusCode).toBe(200);
      expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    } finally {
      await kiln.stop();
    }
  });
});

describe("invitation email over SMTP", () => {
  it("delivers the invitation link to the invitee", async () => {
    const kiln = await kilnWithSmtp(`smtp://127.0.0.1:${port}`);
    try {
      const { client } = await signupVerifiedOverSmtp(kiln);
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
      const body = unfold(mail!.data);
      expect(body).toContain(res.json().url);
    } finally {
      await kiln.stop();
    }
  });

  it("still creates the invitation when the SMTP server is unreachable, and says so", async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const kiln = await kilnWithSmtp("smtp://127.0.0.1:1");
    try {
      // Sign-up stands without its mail; resending says the mail did not go.
      const { client, user } = await kiln.signup({ verify: false });
      const resent = await client.post("/api/auth/verify-email/send");
      expect(resent.statusCode).toBe(200);
      expect(resent.json().emailSent).toBe(false);
      // This instance cannot mail: the owner is marked as having proven the address earlier.
      await kiln.database.db.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, user.id));
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
