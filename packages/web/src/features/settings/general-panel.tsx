import type { Role } from "@kiln/protocol";
import { can } from "@kiln/protocol";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { useDeleteOrg, useRenameOrg } from "./mutations.ts";

export function GeneralPanel({
  org,
  name,
  role,
  personal,
}: {
  org: string;
  name: string;
  role: Role;
  personal: boolean;
}) {
  const rename = useRenameOrg(org);
  const removeOrg = useDeleteOrg(org);
  const navigate = useNavigate();
  const [value, setValue] = useState(name);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const editable = can(role, "org.update");

  const save = (e: FormEvent) => {
    e.preventDefault();
    rename.mutate(value.trim());
  };

  const remove = () =>
    removeOrg.mutate(undefined, {
      onSuccess: async () => {
        await navigate({ to: "/" });
        toast.success(`Deleted ${name}`);
      },
    });

  return (
    <div className="flex flex-col gap-8">
      <form onSubmit={save} className="flex max-w-md flex-col gap-4">
        <Field label="Organization name">
          {(id) => (
            <Input
              id={id}
              value={value}
              onChange={(e) => setValue(e.target.value)}
              disabled={!editable}
              required
            />
          )}
        </Field>
        <Field label="URL name" hint="Part of every project and preview address.">
          {(id) => <Input id={id} value={org} disabled readOnly />}
        </Field>
        {editable && (
          <div>
            <Button
              type="submit"
              variant="primary"
              loading={rename.isPending}
              disabled={value.trim() === name || !value.trim()}
            >
              Save
            </Button>
          </div>
        )}
      </form>
      {can(role, "org.delete") && !personal && (
        <div className="max-w-md rounded-lg border border-red-500/30 p-4">
          <h3 className="text-sm font-medium text-red-300">Delete this organization</h3>
          <p className="mt-1 text-xs text-neutral-400">
            Every project, file and preview in it is removed for all members.
          </p>
          <Button variant="danger" className="mt-3" onClick={() => setConfirming(true)}>
            Delete organization…
          </Button>
        </div>
      )}
      <Dialog open={confirming} onClose={() => setConfirming(false)} title={`Delete ${name}?`}>
        <Field label={`Type ${org} to confirm`}>
          {(id) => <Input id={id} value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />}
        </Field>
        <div className="mt-5 flex justify-end gap-2">
          <Button onClick={() => setConfirming(false)}>Cancel</Button>
          <Button variant="danger" disabled={typed !== org} onClick={remove}>
            Delete organization
          </Button>
        </div>
      </Dialog>
    </div>
  );
}
