import {
  ErrorEnvelope,
  Id,
  IdOrSlug,
  ReviewDecisionBody,
  ReviewDecisionResult,
  TaskReview,
} from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../../http/principal.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { TaskReviews } from "./review.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["tasks"];
const TaskParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug, taskId: Id });

export function taskReviewRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; reviews: TaskReviews },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const path = "/api/orgs/:org/projects/:project/tasks/:taskId/review";

  r.get(
    path,
    {
      schema: {
        tags,
        summary: "The agent's work on a task: its branch against main, with the summary",
        params: TaskParams,
        response: { 200: TaskReview, ...errors },
      },
    },
    async (request) => {
      const access = await deps.orgs.access(principalOf(request).userId, request.params.org);
      return deps.reviews.get(access, request.params.project, request.params.taskId);
    },
  );

  r.post(
    path,
    {
      schema: {
        tags,
        summary: "Approve (merge into main, close the task) or request changes (a fix job with the comment)",
        params: TaskParams,
        body: ReviewDecisionBody,
        response: { 200: ReviewDecisionResult, ...errors },
      },
    },
    async (request) => {
      const access = await deps.orgs.access(principalOf(request).userId, request.params.org);
      return deps.reviews.decide(access, request.params.project, request.params.taskId, request.body);
    },
  );
}
