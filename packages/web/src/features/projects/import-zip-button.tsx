import { useRef } from "react";
import { Button } from "../../ui/button.tsx";
import { useImportProject } from "./mutations.ts";

/** "Import from zip": picks a .zip and makes a new project of it, named after the file. */
export function ImportZipButton({ org }: { org: string }) {
  const input = useRef<HTMLInputElement>(null);
  const importing = useImportProject(org);
  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".zip,application/zip"
        className="hidden"
        data-testid="import-zip-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = "";
          if (file) importing.mutate(file);
        }}
      />
      <Button
        size="md"
        onClick={() => input.current?.click()}
        disabled={importing.isPending}
        className="w-full sm:w-auto"
      >
        {importing.isPending ? "Importing…" : "Import from zip"}
      </Button>
    </>
  );
}
