import { expect, it } from "vitest";
import { ApiError } from "../../api/errors.ts";
import { describeReviewError } from "./review-errors.ts";

it("says what to do about each refusal of a review decision", () => {
  const say = (code: ConstructorParameters<typeof ApiError>[1], message = "x") =>
    describeReviewError(new ApiError(409, code, message));
  expect(say("review_not_ready")).toMatch(/no finished agent work/);
  expect(say("task_busy")).toMatch(/still working/);
  expect(say("merge_conflict", "NOTES.md conflicts")).toMatch(/NOTES.md conflicts.*Request changes/);
  expect(say("branch_not_found")).toMatch(/branch is gone/);
  expect(say("forbidden", "your role (viewer) cannot do this")).toBe("your role (viewer) cannot do this");
});
