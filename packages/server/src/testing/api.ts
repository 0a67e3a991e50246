import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { type SignedUp, uniqueSlug } from "./harness.ts";

/** The answer is the error envelope with this status and machine-readable code (the body shown if not). */
export function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
}

/** A new org of `owner`'s, with a unique slug. */
export async function newOrg(owner: SignedUp, name: string): Promise<{ slug: string; id: string }> {
  const slug = uniqueSlug("org");
  const res = await owner.client.post("/api/orgs", { name, slug });
  expect(res.statusCode, res.body).toBe(201);
  return { slug, id: res.json().id as string };
}

/** `member` joins `org` by invitation with `role`. */
export async function joinByInvitation(
  owner: SignedUp,
  org: { slug: string },
  member: SignedUp,
  role: string,
): Promise<void> {
  const invited = await owner.client.post(`/api/orgs/${org.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode, invited.body).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").pop();
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
}
