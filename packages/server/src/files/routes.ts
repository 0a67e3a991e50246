import {
  DeleteFileQuery,
  ErrorEnvelope,
  FileContent,
  FileEventsMessage,
  FileInfo,
  FileTree,
  FileTreeQuery,
  IdOrSlug,
  MakeDirectoryBody,
  MoveFileBody,
  Ok,
  ReadFileQuery,
  SearchFilesQuery,
  SearchResult,
  WriteFileBody,
} from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { KilnError } from "../errors/errors.ts";
import { type EventStreams, wantsStream } from "../http/event-stream.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import { type FileService, writeBodyLimit } from "./service.ts";
import type { FileWatches } from "./watches.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["files"];
const FileParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const BASE = "/api/orgs/:org/projects/:project/files";

export function fileRoutes(
  app: FastifyInstance,
  deps: {
    orgs: OrgService;
    files: FileService;
    watches: FileWatches;
    streams: EventStreams;
    bodyLimitBytes: number;
  },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, files, watches, streams } = deps;
  const access = (request: { params: { org: string } }, userId: string) =>
    orgs.access(userId, request.params.org);

  r.get(
    `${BASE}/tree`,
    {
      schema: {
        tags,
        summary: "List a project's files recursively",
        params: FileParams,
        querystring: FileTreeQuery,
        response: { 200: FileTree, ...errors },
      },
    },
    async (request) =>
      files.tree(await access(request, principalOf(request).userId), request.params.project, request.query),
  );

  r.get(
    `${BASE}/events`,
    {
      schema: {
        tags,
        summary: "Changes to the project's files as they happen, by anyone (server-sent events)",
        params: FileParams,
        response: { 200: FileEventsMessage, ...errors },
      },
    },
    async (request, reply) => {
      const target = await files.watchTarget(
        await access(request, principalOf(request).userId),
        request.params.project,
      );
      if (!wantsStream(request))
        throw new KilnError("not_acceptable", "this is a stream: ask with Accept: text/event-stream");
      return streams.numbered<FileEventsMessage>(request, reply, async (emit, signal) => {
        let seq = 0;
        const off = await watches.subscribe(target.dir, (batch) =>
          emit({ seq: ++seq, event: { type: "changed", ...batch } }),
        );
        try {
          emit({ seq: ++seq, event: { type: "ready", paths: [], overflow: false } });
          if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
        } finally {
          off();
        }
      });
    },
  );

  r.get(
    `${BASE}/content`,
    {
      schema: {
        tags,
        summary: "Read a file (text, or base64 for binary), optionally a range of lines",
        params: FileParams,
        querystring: ReadFileQuery,
        response: { 200: FileContent, ...errors },
      },
    },
    async (request) =>
      files.read(await access(request, principalOf(request).userId), request.params.project, request.query),
  );

  r.put(
    `${BASE}/content`,
    {
      // File contents may be larger than other bodies; the file size cap is checked on the decoded bytes.
      bodyLimit: Math.max(deps.bodyLimitBytes, writeBodyLimit(files.limits)),
      schema: {
        tags,
        summary: "Create or replace a file atomically",
        params: FileParams,
        body: WriteFileBody,
        response: { 200: FileInfo, ...errors },
      },
    },
    async (request) =>
      files.write(await access(request, principalOf(request).userId), request.params.project, request.body),
  );

  r.post(
    `${BASE}/move`,
    {
      schema: {
        tags,
        summary: "Rename or move a file or directory",
        params: FileParams,
        body: MoveFileBody,
        response: { 200: FileInfo, ...errors },
      },
    },
    async (request) =>
      files.move(await access(request, principalOf(request).userId), request.params.project, request.body),
  );

  r.post(
    `${BASE}/directories`,
    {
      schema: {
        tags,
        summary: "Create a directory",
        params: FileParams,
        body: MakeDirectoryBody,
        response: { 201: FileInfo, ...errors },
      },
    },
    async (request, reply) => {
      const orgAccess = await access(request, principalOf(request).userId);
      return reply.code(201).send(await files.mkdir(orgAccess, request.params.project, request.body));
    },
  );

  r.delete(
    BASE,
    {
      schema: {
        tags,
        summary: "Delete a file, or a directory (recursive=true when not empty)",
        params: FileParams,
        querystring: DeleteFileQuery,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const orgAccess = await access(request, principalOf(request).userId);
      await files.delete(orgAccess, request.params.project, request.query);
      return { ok: true as const };
    },
  );

  r.get(
    `${BASE}/search`,
    {
      schema: {
        tags,
        summary: "Search file contents (text or regex) or names",
        params: FileParams,
        querystring: SearchFilesQuery,
        response: { 200: SearchResult, ...errors },
      },
    },
    async (request) =>
      files.search(await access(request, principalOf(request).userId), request.params.project, request.query),
  );
}
