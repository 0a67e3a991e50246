import { api } from "../../api/endpoints.ts";
import { Section } from "../settings/section.tsx";

/** The project's files as a zip, with or without its history (a git bundle), for backups or moving it. */
export function ExportSection({ org, project }: { org: string; project: string }) {
  const link =
    "rounded-md border border-line bg-surface-1 px-3 py-1.5 text-xs font-medium text-neutral-100 hover:bg-surface-2";
  return (
    <Section
      title="Export"
      description="Download the project's files as a zip, without installed dependencies or build output. With history, the git history comes along as a .bundle; import the zip to make a copy."
    >
      <div className="flex flex-wrap gap-2">
        <a
          href={api.projects.exportUrl(org, project, false)}
          download
          className={link}
          data-testid="export-zip"
        >
          Export zip
        </a>
        <a
          href={api.projects.exportUrl(org, project, true)}
          download
          className={link}
          data-testid="export-zip-history"
        >
          Export zip with history
        </a>
      </div>
    </Section>
  );
}
