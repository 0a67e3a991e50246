import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../../orgs/router.ts";
import type { TaskReviews } from "./review.ts";
import type { TaskService } from "./service.ts";

export function taskRoutes(router: OrgRouter, deps: { tasks: TaskService; reviews: TaskReviews }): void {
  const { tasks, reviews } = deps;
  const c = routes.tasks;

  router.handle(c.list, async (request) => tasks.list(request.scope, request.params.project, request.query));
  router.handle(c.create, async (request) =>
    tasks.create(request.scope, request.params.project, request.body),
  );
  router.handle(c.get, async (request) =>
    tasks.get(request.scope, request.params.project, request.params.taskId),
  );
  router.handle(c.update, async (request) =>
    tasks.update(request.scope, request.params.project, request.params.taskId, request.body),
  );
  router.handle(c.remove, async (request) => {
    await tasks.delete(request.scope, request.params.project, request.params.taskId);
  });
  router.handle(c.move, async (request) =>
    tasks.move(request.scope, request.params.project, request.params.taskId, request.body),
  );

  router.handle(c.comments, async (request) =>
    tasks.comments(request.scope, request.params.project, request.params.taskId),
  );
  router.handle(c.comment, async (request) =>
    tasks.comment(request.scope, request.params.project, request.params.taskId, request.body),
  );
  router.handle(c.editComment, async (request) => {
    const { project, taskId, commentId } = request.params;
    return tasks.editComment(request.scope, project, taskId, commentId, request.body);
  });
  router.handle(c.removeComment, async (request) => {
    const { project, taskId, commentId } = request.params;
    await tasks.deleteComment(request.scope, project, taskId, commentId);
  });
  router.handle(c.activity, async (request) =>
    tasks.activity(request.scope, request.params.project, request.params.taskId, request.query),
  );

  router.handle(c.review, async (request) =>
    reviews.get(request.scope, request.params.project, request.params.taskId),
  );
  router.handle(c.decide, async (request) =>
    reviews.decide(request.scope, request.params.project, request.params.taskId, request.body),
  );
}
