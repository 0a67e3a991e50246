import { ROLES, type Role } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { relativeTime } from "../projects/time.ts";
import { useInvite, useRevokeInvitation } from "./mutations.ts";

export function InvitationsPanel({ org }: { org: string }) {
  const invitations = useQuery({
    queryKey: keys.invitations(org),
    queryFn: () => api.orgs.invitations(org),
  });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("developer");
  const create = useInvite(org);
  const revokeInvitation = useRevokeInvitation(org);
  const [link, setLink] = useState<{ email: string; url: string; emailSent: boolean }>();

  const invite = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      { email: email.trim(), role },
      {
        onSuccess: (created) => {
          setLink({ email: created.email, url: created.url, emailSent: created.emailSent });
          setEmail("");
        },
      },
    );
  };

  const revoke = (id: string) => revokeInvitation.mutate(id);

  const pending = invitations.data?.filter((i) => !i.acceptedAt) ?? [];

  return (
    <div className="flex flex-col gap-4">
      <form onSubmit={invite} className="flex flex-wrap items-end gap-2">
        <Input
          type="email"
          aria-label="Email to invite"
          placeholder="teammate@example.com"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          className="w-auto min-w-56 flex-1"
        />
        <Select
          aria-label="Role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          className="w-36"
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </Select>
        <Button type="submit" variant="primary" size="md" loading={create.isPending} disabled={!email.trim()}>
          Invite
        </Button>
      </form>
      {link && (
        <div className="rounded-md border border-line bg-surface-2 p-3 text-xs">
          <p className="text-neutral-300">
            {link.emailSent
              ? `Invitation sent to ${link.email}.`
              : `No mail could be sent to ${link.email}; share this link with them:`}
          </p>
          <div className="mt-2 flex gap-2">
            <code className="flex-1 truncate rounded bg-surface-0 px-2 py-1 font-mono text-[11px] text-neutral-300">
              {link.url}
            </code>
            <Button
              size="xs"
              onClick={() =>
                void navigator.clipboard?.writeText(link.url).then(() => toast.success("Link copied"))
              }
            >
              Copy
            </Button>
          </div>
        </div>
      )}
      {invitations.isPending ? (
        <LoadingBlock label="Loading invitations" />
      ) : invitations.isError ? (
        <ErrorState message={describeError(invitations.error)} onRetry={() => invitations.refetch()} />
      ) : pending.length === 0 ? (
        <EmptyState
          title="No pending invitations"
          description="Invite people by email; they join with the role you pick."
        />
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line">
          {pending.map((i) => (
            <li key={i.id} className="flex items-center gap-3 px-3 py-2 text-[13px]">
              <span className="flex-1 truncate text-neutral-100">{i.email}</span>
              <span className="text-xs text-neutral-400">{i.role}</span>
              <span className="text-xs text-neutral-500">expires {relativeTime(i.expiresAt)}</span>
              <Button size="xs" variant="ghost" onClick={() => void revoke(i.id)}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
