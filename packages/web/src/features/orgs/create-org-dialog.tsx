import { slugify } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { meQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";

export function CreateOrgDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const effectiveSlug = slugEdited ? slug : slugify(name, "");

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const org = await api.orgs.create({ name: name.trim(), slug: effectiveSlug });
      await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
      toast.success(`Created ${org.name}`);
      onClose();
      setName("");
      setSlug("");
      setSlugEdited(false);
      await navigate({ to: "/$org", params: { org: org.slug } });
    } catch (err) {
      setError(
        isApiError(err, "slug_taken")
          ? "That URL name is taken; pick another."
          : isApiError(err, "slug_reserved")
            ? "That URL name is reserved; pick another."
            : describeError(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create an organization"
      description="Orgs hold projects and members; each is its own tenant."
    >
      <form id="create-org" onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name">
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
              required
              placeholder="Acme Inc."
            />
          )}
        </Field>
        <Field label="URL name" hint={`Projects live at /${effectiveSlug || "…"}/<project>`} error={error}>
          {(id) => (
            <Input
              id={id}
              value={effectiveSlug}
              onChange={(e) => {
                setSlugEdited(true);
                setSlug(e.target.value.toLowerCase());
              }}
              required
              pattern="[a-z][a-z0-9-]{1,38}"
            />
          )}
        </Field>
      </form>
      <div className="mt-5 flex justify-end gap-2">
        <Button onClick={onClose}>Cancel</Button>
        <Button
          type="submit"
          form="create-org"
          variant="primary"
          loading={busy}
          disabled={!name.trim() || !effectiveSlug}
        >
          Create organization
        </Button>
      </div>
    </Dialog>
  );
}
