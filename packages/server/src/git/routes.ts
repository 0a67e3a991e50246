import type { Readable } from "node:stream";
import { ErrorEnvelope, GitInfoRefsQuery, GitRepoRef, type GitService, IdOrSlug } from "@kiln/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiTokenService } from "../auth/api-tokens.ts";
import type { AuthService } from "../auth/service.ts";
import { BadRequestError, ForbiddenError, KilnError } from "../errors/errors.ts";
import { lingerOnClose } from "../http/linger.ts";
import type { GitAccess, GitCaller } from "./access.ts";
import type { GitBackend, GitResponse } from "./backend.ts";
import { authenticateGit } from "./credentials.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["git"];
const security: Array<Record<string, string[]>> = [{ basic: [] }, { bearer: [] }];
const RepoParams = z.strictObject({ org: IdOrSlug, project: GitRepoRef });
const BASE = "/git/:org/:project";
const REQUEST_TYPES = ["application/x-git-upload-pack-request", "application/x-git-receive-pack-request"];
/** `version=2`, possibly with more `key[=value]` items separated by colons (gitprotocol-v2). */
const GIT_PROTOCOL = /^[A-Za-z0-9._-]+(?:=[A-Za-z0-9._-]*)?(?::[A-Za-z0-9._-]+(?:=[A-Za-z0-9._-]*)?)*$/;

const DESCRIPTION =
  "Git smart HTTP (protocol v0/v1/v2) for `git clone`, `fetch` and `push`: the remote URL is " +
  "`<server>/git/<org>/<project>.git`. Authenticate with HTTP Basic (any username, a personal API token " +
  "`kiln_pat_…` or a job token as the password) or Bearer; cookies are ignored. Fetching needs the viewer " +
  "role, pushing the developer role. Bodies and answers are git's own (application/x-git-*), streamed; " +
  "errors are the JSON envelope, or plain text for git clients (shown as `remote: …`).";

export function gitRoutes(
  app: FastifyInstance,
  deps: { auth: AuthService; apiTokens: ApiTokenService; access: GitAccess; backend: GitBackend },
): void {
  app.register(async (scope) => {
    const r = scope.withTypeProvider<ZodTypeProvider>();
    const callers = new WeakMap<FastifyRequest, GitCaller>();
    // The body is git's, read by git as it arrives (never buffered here); limits are the backend's.
    scope.addContentTypeParser(REQUEST_TYPES, (_request, payload, done) => done(null, payload));
    // Before the body is parsed: a stranger's upload is never read.
    scope.addHook("onRequest", async (request) => {
      const caller = await authenticateGit(request.headers.authorization, {
        auth: deps.auth,
        apiTokens: deps.apiTokens,
        jobTokens: deps.access.jobTokens,
      });
      callers.set(request, caller);
    });
    scope.addHook("onSend", async (request, reply, payload) => {
      // An answer sent before the upload was read (a refusal) closes the connection rather than drain the
      // upload, after a bounded linger so the client still reads the answer (http/linger.ts).
      if (!request.raw.complete) {
        reply.header("connection", "close");
        lingerOnClose(request.raw.socket);
      }
      return reply.statusCode >= 400 && isGitClient(request) ? asPlainText(reply, payload) : payload;
    });
    const callerOf = (request: FastifyRequest): GitCaller => {
      const caller = callers.get(request);
      if (!caller) throw new Error("git route without an authenticated caller");
      return caller;
    };

    r.get(
      `${BASE}/info/refs`,
      {
        exposeHeadRoute: false,
        config: { auth: "required", ownAuth: true },
        schema: {
          tags,
          summary: "Git ref advertisement: the first request of a clone, fetch or push",
          description: DESCRIPTION,
          security,
          params: RepoParams,
          querystring: GitInfoRefsQuery,
          response: errors,
        },
      },
      async (request, reply) => {
        const { service } = request.query;
        const repo = await deps.access.repository(callerOf(request), request.params, permissionFor(service));
        const response = await deps.backend.serve(repo, {
          service,
          advertise: true,
          protocol: gitProtocolOf(request),
          signal: hangUpSignal(reply),
        });
        return send(reply, response);
      },
    );

    for (const service of ["git-upload-pack", "git-receive-pack"] as const) {
      r.post(
        `${BASE}/${service}`,
        {
          config: { auth: "required", ownAuth: true },
          schema: {
            tags,
            summary:
              service === "git-upload-pack"
                ? "Git fetch: negotiate and receive a pack (clone, fetch, pull)"
                : "Git push: send a pack and update refs (the checked-out branch updates the working tree)",
            description: DESCRIPTION,
            security,
            params: RepoParams,
            response: errors,
          },
        },
        async (request, reply) => {
          const repo = await deps.access.repository(
            callerOf(request),
            request.params,
            permissionFor(service),
          );
          // git never sends Origin; a browser always does on a POST. Cached Basic credentials must not let
          // a web page push (it could not send this content type without a preflight anyway).
          if (request.headers.origin !== undefined) {
            throw new ForbiddenError("origin_forbidden", "git requests come from git clients, not web pages");
          }
          const response = await deps.backend.serve(repo, {
            service,
            advertise: false,
            body: gitBody(request, service),
            contentLength: contentLengthOf(request),
            gzip: gzipOf(request, service),
            protocol: gitProtocolOf(request),
            signal: hangUpSignal(reply),
          });
          return send(reply, response);
        },
      );
    }
  });
}

function permissionFor(service: GitService) {
  return service === "git-receive-pack" ? "projects.write" : "projects.read";
}

function send(reply: FastifyReply, response: GitResponse) {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** Aborted when the client hangs up before the answer is complete: git's sandbox is killed. */
function hangUpSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

function gitBody(request: FastifyRequest, service: GitService): Readable {
  const type = String(request.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  if (type !== `application/x-${service}-request`) {
    throw new KilnError(
      "unsupported_media_type",
      `a ${service} request has the content type application/x-${service}-request`,
    );
  }
  return request.body as Readable;
}

function contentLengthOf(request: FastifyRequest): number | undefined {
  const value = request.headers["content-length"];
  return value === undefined ? undefined : Number(value);
}

/** git compresses large fetch negotiations; a push body is never compressed, so a compressed one is refused. */
function gzipOf(request: FastifyRequest, service: GitService): boolean {
  const encoding = String(request.headers["content-encoding"] ?? "identity")
    .trim()
    .toLowerCase();
  if (encoding === "identity") return false;
  if (service === "git-upload-pack" && (encoding === "gzip" || encoding === "x-gzip")) return true;
  throw new KilnError("unsupported_media_type", `content encoding ${encoding} is not accepted here`);
}

function gitProtocolOf(request: FastifyRequest): string | undefined {
  const value = request.headers["git-protocol"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > 256 || !GIT_PROTOCOL.test(value)) {
    throw new BadRequestError("bad_request", "the Git-Protocol header is malformed");
  }
  return value;
}

function isGitClient(request: FastifyRequest): boolean {
  return /^git\//i.test(String(request.headers["user-agent"] ?? ""));
}

/** git shows a text/plain error body to its user (`remote: …`); JSON it would not. */
function asPlainText(reply: FastifyReply, payload: unknown): unknown {
  if (typeof payload !== "string") return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  const envelope = ErrorEnvelope.safeParse(parsed);
  if (!envelope.success) return payload;
  reply.header("content-type", "text/plain; charset=utf-8");
  return `${envelope.data.error.message}\n`;
}
