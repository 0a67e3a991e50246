import { slugify } from "@kiln/protocol";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { isApiError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { useCreateOrg } from "./mutations.ts";

export function CreateOrgDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const create = useCreateOrg();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const effectiveSlug = slugEdited ? slug : slugify(name, "");

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({ fields: {} });
    create.mutate(
      { name: name.trim(), slug: effectiveSlug },
      {
        onSuccess: (org) => {
          onClose();
          setName("");
          setSlug("");
          setSlugEdited(false);
          void navigate({ to: "/$org", params: { org: org.slug } });
        },
        onError: (err) =>
          setErrors(
            isApiError(err, "slug_taken")
              ? { fields: { slug: "That URL name is taken; pick another." } }
              : isApiError(err, "slug_reserved")
                ? { fields: { slug: "That URL name is reserved; pick another." } }
                : errorsFromApi(err),
          ),
      },
    );
  };
  const busy = create.isPending;

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create an organization"
      description="Orgs hold projects and members; each is its own tenant."
    >
      <form id="create-org" onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name" error={errors.fields.name}>
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
        <Field
          label="URL name"
          hint={`Projects live at /${effectiveSlug || "…"}/<project>`}
          error={errors.fields.slug}
        >
          {(id) => (
            <Input
              id={id}
              value={effectiveSlug}
              onChange={(e) => {
                setSlugEdited(true);
                setSlug(e.target.value.toLowerCase());
              }}
              required
              // Browsers compile `pattern` with the `v` flag, where a bare `-` in a class is a syntax error.
              pattern="[a-z][a-z0-9\-]{1,38}"
              title="Lowercase letters, digits and hyphens; starts with a letter; 2–39 characters"
            />
          )}
        </Field>
        {errors.form && (
          <p role="alert" className="text-xs text-red-400">
            {errors.form}
          </p>
        )}
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
