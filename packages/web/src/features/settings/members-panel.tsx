import { can, ROLES, type Role } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useMe } from "../auth/use-me.ts";
import { useRemoveMember, useSetMemberRole } from "./mutations.ts";

export function MembersPanel({ org, role, personal }: { org: string; role: Role; personal: boolean }) {
  const me = useMe();
  const changeRole = useSetMemberRole(org);
  const removeMember = useRemoveMember(org);
  const navigate = useNavigate();
  const members = useQuery({ queryKey: keys.members(org), queryFn: () => api.orgs.members(org) });
  const manage = can(role, "members.manage");

  const setRole = (userId: string, next: Role) => changeRole.mutate({ userId, role: next });

  const remove = (userId: string, self: boolean) => {
    if (!window.confirm(self ? "Leave this organization?" : "Remove this member from the organization?"))
      return;
    removeMember.mutate({ userId, self }, { onSuccess: () => (self ? navigate({ to: "/" }) : undefined) });
  };

  if (members.isPending) return <LoadingBlock label="Loading members" />;
  if (members.isError)
    return <ErrorState message={describeError(members.error)} onRetry={() => members.refetch()} />;

  return (
    <div className="overflow-hidden rounded-lg border border-line">
      <table className="w-full text-left text-[13px]">
        <thead className="bg-surface-2 text-xs text-neutral-400">
          <tr>
            <th className="px-3 py-2 font-medium">Member</th>
            <th className="w-36 px-3 py-2 font-medium">Role</th>
            <th className="w-24 px-3 py-2" />
          </tr>
        </thead>
        <tbody>
          {members.data.map((m) => {
            const self = m.userId === me.user.id;
            return (
              <tr key={m.userId} className="border-t border-line">
                <td className="px-3 py-2">
                  <div className="font-medium text-neutral-100">
                    {m.name || m.email}{" "}
                    {self && <span className="text-xs font-normal text-neutral-500">(you)</span>}
                  </div>
                  <div className="text-xs text-neutral-500">{m.email}</div>
                </td>
                <td className="px-3 py-2">
                  {manage && !self ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(e) => void setRole(m.userId, e.target.value as Role)}
                      className="h-7 text-xs"
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </Select>
                  ) : (
                    <span className="text-neutral-300">{m.role}</span>
                  )}
                </td>
                <td className="px-3 py-2 text-right">
                  {(manage || self) && !(self && personal) && (
                    <Button size="xs" variant="ghost" onClick={() => void remove(m.userId, self)}>
                      {self ? "Leave" : "Remove"}
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
